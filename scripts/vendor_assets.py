#!/usr/bin/env python3
"""Reproduce ``jlp_geo/viz/assets/``: the JavaScript/CSS inlined into offline maps.

Every asset comes from a pinned npm package, fetched with ``npm pack`` (the npm
registry is the only place it is downloaded from) and checked against the
registry's published sha512 integrity before anything is copied.  The script then

* copies the few files the maps need, plus each package's licence text;
* rewrites every ``url(...)`` in the CSS that points at a file of the package
  into a ``data:`` URI, so no stylesheet fetches anything (IE-only
  ``behavior: url(#default#VML)`` declarations are dropped, and Leaflet's
  ``.leaflet-default-icon-path`` probe image becomes ``none``: the shim below
  sets the marker images directly);
* strips ``//# sourceMappingURL=`` comments (a map opened from disk must not try
  to load ``*.map`` siblings);
* writes ``leaflet/default-icon.js``, a shim that gives ``L.Icon.Default`` its
  marker images as ``data:`` URIs (inlined only into maps that use ``L.marker``);
* records name, version, licence, npm integrity and the sha256 of every written
  file in ``assets/MANIFEST.json``.

Usage::

    python scripts/vendor_assets.py           # rewrite jlp_geo/viz/assets/
    python scripts/vendor_assets.py --check   # re-derive in a temp dir and compare

Needs ``npm`` on PATH.  The output is deterministic, so ``--check`` proves the
committed assets are exactly what the pinned packages give.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import mimetypes
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent.parent / "jlp_geo" / "viz" / "assets"

#: The pinned packages.  ``files`` maps a path inside the npm tarball
#: (under ``package/``) to the file name written to ``assets/<dir>/``.
PACKAGES: list[dict] = [
    {
        "name": "leaflet",
        "version": "1.9.4",
        "dir": "leaflet",
        "licence": "BSD-2-Clause",
        "integrity": "sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==",
        "files": {"dist/leaflet.js": "leaflet.js", "dist/leaflet.css": "leaflet.css", "LICENSE": "LICENSE"},
        "purpose": "map library (replaces folium's leaflet@1.9.3 CDN links)",
    },
    {
        "name": "leaflet.fullscreen",
        "version": "3.0.0",
        "dir": "leaflet.fullscreen",
        "licence": "MIT",
        "integrity": "sha512-81wWSUXz1ZtdneR0v5eJDWXUSx+Zo5J50WXWeydG/UcILfIEAgz/iOjZSi3p00Z9MJ/FC/P5i3CgdYuEAos0yQ==",
        "files": {
            "Control.FullScreen.js": "Control.FullScreen.js",
            "Control.FullScreen.css": "Control.FullScreen.css",
            "LICENSE": "LICENSE",
        },
        "purpose": "fullscreen button (folium.plugins.Fullscreen)",
    },
    {
        "name": "leaflet-groupedlayercontrol",
        "version": "0.6.1",
        "dir": "leaflet-groupedlayercontrol",
        "licence": "MIT",
        "integrity": "sha512-xkGeH6ygcryFQI0FUWn6Bz93zlwrOSpeXgJQ3jLRoUQJ5h/Qgrz+GqR9nhBFfikjUKtC1sCKL3eDR9wNTWhLlA==",
        "files": {
            "dist/leaflet.groupedlayercontrol.min.js": "leaflet.groupedlayercontrol.min.js",
            "dist/leaflet.groupedlayercontrol.min.css": "leaflet.groupedlayercontrol.min.css",
            "LICENSE.txt": "LICENSE.txt",
        },
        "purpose": "layer control with groups (folium.plugins.GroupedLayerControl, jlp_geo atlas)",
    },
    {
        "name": "jquery",
        "version": "3.7.1",
        "dir": "jquery",
        "licence": "MIT",
        "integrity": "sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
        "files": {"dist/jquery.min.js": "jquery.min.js", "LICENSE.txt": "LICENSE.txt"},
        "purpose": "only inlined when a folium element needs it (folium.Popup with HTML uses $(...))",
    },
]

_URL_RE = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")
_SOURCEMAP_RE = re.compile(r"\n?//# sourceMappingURL=\S+\s*$")


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".svg":
        mime = "image/svg+xml"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css(css: str, base: Path) -> str:
    """Turn ``url(relative/file)`` into data URIs; drop IE-only VML behaviours."""
    css = re.sub(r"[ \t]*behavior:\s*url\(#default#VML\);?[ \t]*\n?", "", css)

    def repl(m: re.Match) -> str:
        target = m.group(2).strip()
        if target.startswith("data:"):
            return m.group(0)
        if re.match(r"^([a-z]+:)?//", target):
            raise SystemExit(f"external url() in CSS: {target}")
        if target.endswith("marker-icon.png"):
            # only read by L.Icon.Default._detectIconPath; default-icon.js sets the path instead
            return "none"
        return f'url("{_data_uri(base / target)}")'

    return _URL_RE.sub(repl, css)


def _npm_pack(spec: str, dest: Path) -> dict:
    out = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(dest)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)[0]


def _sri_sha512(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode("ascii")


def _default_icon_shim(images: Path) -> str:
    return (
        "/* jlp_geo: Leaflet 1.9.4 default marker images as data: URIs (from leaflet/dist/images, BSD-2-Clause) */\n"
        "L.Icon.Default.imagePath = '';\n"
        "L.Icon.Default.mergeOptions({"
        f"iconUrl: '{_data_uri(images / 'marker-icon.png')}', "
        f"iconRetinaUrl: '{_data_uri(images / 'marker-icon-2x.png')}', "
        f"shadowUrl: '{_data_uri(images / 'marker-shadow.png')}'"
        "});\n"
    )


def build(out_dir: Path) -> dict:
    """Fetch, verify and write every pinned package into *out_dir*; return the manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest: dict = {"generated_by": "scripts/vendor_assets.py", "packages": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        for pkg in PACKAGES:
            spec = f"{pkg['name']}@{pkg['version']}"
            info = _npm_pack(spec, tmp_path)
            tarball = tmp_path / info["filename"]
            got = _sri_sha512(tarball)
            if got != pkg["integrity"]:
                raise SystemExit(f"{spec}: integrity {got} does not match the pinned {pkg['integrity']}")
            unpack = tmp_path / pkg["dir"]
            with tarfile.open(tarball) as tf:
                tf.extractall(unpack, filter="data")
            root = unpack / "package"
            target = out_dir / pkg["dir"]
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            written = {}
            for src, dst in pkg["files"].items():
                src_path = root / src
                text_like = src_path.suffix in (".js", ".css")
                if src_path.suffix == ".css":
                    data = _inline_css(src_path.read_text(encoding="utf-8"), src_path.parent).encode("utf-8")
                elif src_path.suffix == ".js":
                    data = _SOURCEMAP_RE.sub("\n", src_path.read_text(encoding="utf-8")).encode("utf-8")
                else:
                    data = src_path.read_bytes()
                if text_like and not data.endswith(b"\n"):
                    data += b"\n"
                (target / dst).write_bytes(data)
                written[dst] = hashlib.sha256(data).hexdigest()
            if pkg["name"] == "leaflet":
                shim = _default_icon_shim(root / "dist" / "images").encode("utf-8")
                (target / "default-icon.js").write_bytes(shim)
                written["default-icon.js"] = hashlib.sha256(shim).hexdigest()
            manifest["packages"].append(
                {
                    "name": pkg["name"],
                    "version": pkg["version"],
                    "licence": pkg["licence"],
                    "npm_integrity": pkg["integrity"],
                    "dir": pkg["dir"],
                    "purpose": pkg["purpose"],
                    "files": dict(sorted(written.items())),
                }
            )
    (out_dir / "MANIFEST.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


#: Hand-written files kept beside the generated ones.
HAND_WRITTEN = {"README.md"}


def _tree(path: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(path)): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file() and str(p.relative_to(path)) not in HAND_WRITTEN
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="rebuild in a temp dir and compare with the committed assets")
    args = parser.parse_args(argv)
    if shutil.which("npm") is None:
        print("npm is not on PATH: install Node.js/npm (apt-get install -y npm)", file=sys.stderr)
        return 2
    if not args.check:
        build(ASSETS_DIR)
        print(f"wrote {ASSETS_DIR}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp) / "assets")
        a, b = _tree(Path(tmp) / "assets"), _tree(ASSETS_DIR)
        if a != b:
            diff = sorted(set(a) ^ set(b)) + sorted(k for k in set(a) & set(b) if a[k] != b[k])
            print("assets differ from the pinned packages: " + ", ".join(diff), file=sys.stderr)
            return 1
    print("assets match the pinned npm packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
