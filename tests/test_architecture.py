"""The shape of the house (DESIGN.md §3, README "Layout"): imports only go down, no private name crosses
modules, no module over 500 lines.

The layering itself is the import-linter contract in ``pyproject.toml`` ([tool.importlinter]); this file runs it
on the real package and once on a copy with a back-edge planted, to show the contract can fail.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "jlp_geo"
MAX_LINES = 500


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "assets" not in p.parts)


def _dotted(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(node: ast.ImportFrom, path: Path) -> str:
    """The absolute module name of ``from <module> import ...`` inside *path*."""
    if node.level == 0:
        return node.module or ""
    base = _dotted(path).split(".")
    if path.name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def private_cross_imports(package: Path = PACKAGE) -> list[str]:
    """Every ``from jlp_geo.x import _name`` (or from a ``_module``) between two different modules."""
    found = []
    for path in sorted(p for p in package.rglob("*.py") if "assets" not in p.parts):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        me = _dotted(path)
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            target = _absolute(node, path)
            if not target.startswith("jlp_geo") or target == me:
                continue
            private_module = any(part.startswith("_") and not part.startswith("__") for part in target.split("."))
            names = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
            if private_module or names:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} from {target} import {', '.join(a.name for a in node.names)}")
    return found


def test_no_private_name_crosses_modules() -> None:
    assert private_cross_imports() == []


def test_private_import_check_can_fail(tmp_path: Path) -> None:
    pkg = tmp_path / "jlp_geo"
    (pkg / "analysis").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "crs.py").write_text("def _as_crs(x):\n    return x\n")
    (pkg / "analysis" / "__init__.py").write_text("")
    (pkg / "analysis" / "x.py").write_text("from ..crs import _as_crs\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert private_cross_imports(pkg) == ["jlp_geo/analysis/x.py:1 from jlp_geo.crs import _as_crs"]
    finally:
        ROOT = saved


def test_no_module_over_500_lines() -> None:
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in _modules()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(exe), str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=root, capture_output=True, text=True, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )


def test_import_contracts_hold() -> None:
    run = _lint(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "BROKEN" not in run.stdout and "KEPT" in run.stdout


@pytest.mark.parametrize(
    ("module", "line"),
    [
        ("analysis/coverage.py", "from ..pipeline import run_build\n"),  # analysis importing the job
        ("analysis/accessibility.py", "from ..viz import escape\n"),  # analysis importing presentation
        ("crs.py", "from .sources import osm\n"),  # the ground importing a floor above
    ],
)
def test_import_contracts_fail_on_a_back_edge(tmp_path: Path, module: str, line: str) -> None:
    copy = tmp_path / "jlp_geo"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "assets"))
    target = copy / module
    text = target.read_text(encoding="utf-8")
    head, sep, rest = text.partition("from __future__ import annotations\n")
    target.write_text(head + sep + line + rest if sep else line + text, encoding="utf-8")
    run = _lint(tmp_path)
    assert run.returncode != 0, run.stdout
    assert "BROKEN" in run.stdout
