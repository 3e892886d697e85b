"""The built wheel runs on its own: installed into a fresh venv, ``jlp-geo build`` works from another folder,
and its maps are the repository's ``maps/`` byte for byte.

The wheel is built from the repository (``pip wheel``); the fresh venv gets it with ``--no-deps`` and borrows
the third-party packages of the running environment through a ``.pth`` path line (a path line adds the folder
but runs none of its ``.pth`` hooks, so the editable install of the repository is *not* visible). The build then
runs in an empty folder far from the repository: it must find its data (``layers/`` packaged as
``jlp_geo/_layers``) inside the installed package.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

import jlp_geo

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(REPO)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    (whl,) = dist.glob("jlp_geo-*.whl")
    return whl


def test_wheel_carries_data_types_and_one_version(wheel: Path) -> None:
    assert wheel.name.startswith(f"jlp_geo-{jlp_geo.__version__}-")  # the version comes from jlp_geo.__version__
    names = zipfile.ZipFile(wheel).namelist()
    layers = sorted(p.name for p in (REPO / "layers").iterdir() if p.is_file() and not p.name.startswith("."))
    packed = sorted(n.split("/", 2)[2] for n in names if n.startswith("jlp_geo/_layers/"))
    assert set(layers) <= set(packed) and "jiulongpo.yml" in packed and "styles.yml" in packed
    assert "jlp_geo/py.typed" in names
    assert any(n.startswith("jlp_geo/reports/templates/") for n in names) and any(n.startswith("jlp_geo/viz/assets/") for n in names)


def test_installed_wheel_builds_from_another_folder(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = Path(subprocess.check_output([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--quiet", str(wheel)],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-3000:]
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JLP_GEO_", "PYTHONPATH"))}
    env["JLP_GEO_CACHE_DIR"] = str(tmp_path / "cache")
    where = subprocess.run([str(py), "-c", "import jlp_geo, jlp_geo.settings as s; print(jlp_geo.__file__); print(s.get_settings().layers_dir)"],
                           capture_output=True, text=True, cwd=work, env=env)
    module, layers_dir = where.stdout.split()
    assert module.startswith(str(env_dir)) and layers_dir == str(Path(module).parent / "_layers"), where
    run = subprocess.run([str(env_dir / "bin" / "jlp-geo"), "build", "--out", "x", "--quiet"], capture_output=True, text=True,
                         cwd=work, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert (work / "x" / "jiulongpo.gpkg").stat().st_size > 100_000 and (work / "x" / "maps" / "atlas.html").is_file()
    assert "jlp-geo build: outputs written to" in run.stdout
    # the repository's maps/ = this default offline build's maps, byte for byte (make maps)
    fresh = {p.name: p.read_bytes() for p in sorted((work / "x" / "maps").glob("*.html"))}
    kept = {p.name: p.read_bytes() for p in sorted((REPO / "maps").glob("*.html"))}
    assert {"atlas.html", "waste.html"} <= set(fresh)
    assert sorted(kept) == sorted(fresh), "maps/ is missing pages or has extra ones: run `make maps`"
    stale = [name for name in fresh if kept[name] != fresh[name]]
    assert not stale, f"maps/ is out of date ({', '.join(stale)}): run `make maps` (or `make run`) and commit maps/"
