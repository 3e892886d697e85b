"""Packaging hook: the wheel carries the project's data folder ``layers/`` as ``jlp_geo/_layers``.

``layers/`` stays at the top of the repository (planners and engineers edit it there);
``build_py`` copies it into the built package, where :mod:`jlp_geo.settings` finds it
when the package is installed from a wheel. Everything else is in ``pyproject.toml``.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithLayers(build_py):
    """``build_py`` that also copies ``layers/`` (every file, no caches) into ``jlp_geo/_layers``."""

    def run(self) -> None:
        super().run()
        source = Path(__file__).resolve().parent / "layers"
        target = Path(self.build_lib) / "jlp_geo" / "_layers"
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))


setup(cmdclass={"build_py": BuildPyWithLayers})
