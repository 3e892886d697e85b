"""Warnings a planner must see: printed as lines beginning with ``警告`` and collected into the job's notes.

A warning is for a run that goes on but whose result is weaker than it looks (a partial OSM extract, a raster
that covers half the district, 镇街 areas that differ from the official ones).  :func:`warn` prints it at once
on standard error and adds it to every :func:`collect_warnings` block in force, so the job can put it into
its notes, report and GeoPackage metadata as well.  Errors (the run stops) are :mod:`jlp_geo.errors`.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from collections.abc import Iterator

__all__ = ["PREFIX", "collect_warnings", "warn"]

#: every warning line starts with this
PREFIX = "警告"

_COLLECTORS: contextvars.ContextVar[tuple[list[str], ...]] = contextvars.ContextVar("jlp_geo_warnings", default=())


def warn(text: str) -> str:
    """Print ``警告 <text>`` on standard error and record it; return the line.

    Parameters
    ----------
    text
        Chinese first, then English: what is weak, where, and what it means for the figures.
    """
    line = text if text.startswith(PREFIX) else f"{PREFIX} {text}"
    buckets = _COLLECTORS.get()
    if not (buckets and line in buckets[-1]):  # said once per job, even when two analyses meet the same input
        print(line, file=sys.stderr, flush=True)
    for bucket in buckets:
        if line not in bucket:
            bucket.append(line)
    return line


@contextlib.contextmanager
def collect_warnings() -> Iterator[list[str]]:
    """Collect every :func:`warn` line issued inside the block (blocks may nest; each gets every line)."""
    bucket: list[str] = []
    token = _COLLECTORS.set((*_COLLECTORS.get(), bucket))
    try:
        yield bucket
    finally:
        _COLLECTORS.reset(token)
