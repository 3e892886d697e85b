"""``jlp-geo`` command line: thin commands over the library.

One module per command (``build``, ``coverage``, ``waste``, ``report``, ``fetch``), each with
``register(sub)`` adding its parser and ``run(args)`` doing the work through :mod:`jlp_geo.pipeline`;
shared options live in :mod:`jlp_geo.cli.options`. A new command is a new module added to
``COMMANDS``.

Errors caused by input (bad files, missing data, wrong CRS) print what was wrong, where and what to do,
and exit with status 2; nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import JlpGeoError
from . import build, coverage, fetch, report, waste
from .options import EPILOG

__all__ = ["COMMANDS", "main", "parser"]

COMMANDS = (build, coverage, report, waste, fetch)


def parser() -> argparse.ArgumentParser:
    """The ``jlp-geo`` argument parser with every command of :data:`COMMANDS`."""
    p = argparse.ArgumentParser(
        prog="jlp-geo",
        description="jlp_geo — GIS toolkit for the spatial planning of Jiulongpo District (九龙坡区), Chongqing.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"jlp_geo {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jlp-geo`` console script."""
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except JlpGeoError as exc:
        print(f"jlp-geo {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
