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
from ..io.staging import output_policy, signals_as_interrupts
from . import build, circles, coverage, fetch, report, site, waste
from ..progress import configure_output, finish
from .options import EPILOG, add_verbosity

__all__ = ["COMMANDS", "main", "parser"]

COMMANDS = (build, coverage, circles, report, waste, site, fetch)


def parser() -> argparse.ArgumentParser:
    """The ``jlp-geo`` argument parser with every command of :data:`COMMANDS`."""
    p = argparse.ArgumentParser(
        prog="jlp-geo",
        description="jlp_geo — GIS toolkit for the spatial planning of Jiulongpo District (九龙坡区), Chongqing.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"jlp_geo {__version__}")
    add_verbosity(p)
    sub = p.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        add_verbosity(command.register(sub), sub_command=True)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jlp-geo`` console script."""
    args = parser().parse_args(argv)
    configure_output(getattr(args, "verbosity", 0))
    ok = False
    try:
        with signals_as_interrupts(), output_policy(force=bool(getattr(args, "force", False))):
            status = args.run(args)
            ok = status == 0
            return status
    except JlpGeoError as exc:
        print(f"jlp-geo {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(f"jlp-geo {args.command}: interrupted ({exc or 'Ctrl-C'}) 已中断: outputs are published only when complete, "
              "so the output folder holds the previous outputs (or, if the interruption came after publishing, the complete "
              "new ones) — never a mix", file=sys.stderr)
        return 130
    except OSError as exc:  # an unreadable input or unwritable output that no check caught: still no traceback
        print(f"jlp-geo {args.command}: error: {exc}\n  what to do: check the path and its permissions", file=sys.stderr)
        return 2
    finally:
        finish(ok)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
