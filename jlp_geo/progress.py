"""Logging and progress of the long steps (reading OSM, building networks, searches, writing).

The library logs to the ``jlp_geo`` logger and marks its steps with :func:`step` and
:func:`track`; both cost nothing until a program turns them on with :func:`configure_output`
(the CLI does, from ``--verbose`` / ``--quiet``):

* quiet (``-1``): warnings only (the ``警告`` lines of :mod:`jlp_geo.notices` are printed anyway);
* normal (``0``): one line per finished step with its duration, and live progress bars
  (rich; drawn only on a terminal and cleared when done, so logs and captured output stay clean);
* verbose (``1``): debug messages too.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator, Sized
from typing import TypeVar

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

__all__ = ["configure_output", "finish", "log", "step", "track", "verbosity"]

T = TypeVar("T")

#: the package logger; modules may also use ``logging.getLogger(__name__)`` (a child of it)
log = logging.getLogger("jlp_geo")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of each record (test runners swap it)."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201 - logging's own attribute
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


class _State:
    verbosity: int | None = None  # None: not configured (library use) → silent
    console: Console | None = None
    handler: logging.Handler | None = None
    progress: Progress | None = None
    step_task: TaskID | None = None
    step_label: str | None = None
    step_started: float = 0.0


_S = _State()


def verbosity() -> int | None:
    """The configured verbosity (-1 quiet, 0 normal, 1 verbose), or ``None`` when output is not configured."""
    return _S.verbosity


def configure_output(level: int = 0, console: Console | None = None) -> None:
    """Send ``jlp_geo`` log records to standard error and enable progress bars.

    Parameters
    ----------
    level
        ``-1`` quiet (warnings only, no progress), ``0`` normal, ``1`` verbose (debug).
    console
        A rich console (default: standard error).
    """
    finish()
    _S.verbosity = level
    _S.console = console or Console(stderr=True)
    if _S.handler is not None:
        log.removeHandler(_S.handler)
    if _S.console.is_terminal:
        _S.handler = RichHandler(console=_S.console, show_time=level > 0, show_level=level > 0, show_path=level > 0,
                                 markup=False, rich_tracebacks=False)
    elif console is not None:
        _S.handler = logging.StreamHandler(console.file)
    else:  # plain lines in logs and captured output (no padding to the console width)
        _S.handler = _StderrHandler()
    _S.handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(_S.handler)
    log.setLevel(logging.WARNING if level < 0 else logging.DEBUG if level > 0 else logging.INFO)
    log.propagate = False


def _progress() -> Progress | None:
    if _S.verbosity is None or _S.verbosity < 0 or _S.console is None or not _S.console.is_terminal:
        return None
    if _S.progress is None:
        _S.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[count]}"),
            TimeElapsedColumn(), console=_S.console, transient=True,
        )
        _S.progress.start()
    return _S.progress


def _end_step(ok: bool = True) -> None:
    if _S.step_label is not None and ok:
        log.info("✓ %s（%.1f 秒）", _S.step_label, time.perf_counter() - _S.step_started)
    if _S.progress is not None and _S.step_task is not None:
        _S.progress.remove_task(_S.step_task)
    _S.step_label, _S.step_task = None, None


def step(label: str) -> None:
    """Start the step *label* (ending the previous one, whose duration is logged); a spinner runs meanwhile."""
    _end_step()
    if _S.verbosity is None:
        return
    _S.step_label, _S.step_started = label, time.perf_counter()
    log.debug("… %s", label)
    progress = _progress()
    if progress is not None:
        _S.step_task = progress.add_task(label, total=None, count="")


def track(items: Iterable[T], label: str, total: int | None = None) -> Iterator[T]:
    """Yield *items* with a progress bar *label* (n of total); log the count and duration at the end."""
    if _S.verbosity is None:
        yield from items
        return
    if total is None and isinstance(items, Sized):
        total = len(items)
    progress = _progress()
    task = progress.add_task(label, total=total, count=f"0/{total or '?'}") if progress is not None else None
    started, n = time.perf_counter(), 0
    try:
        for n, item in enumerate(items, 1):
            yield item
            if progress is not None and task is not None:
                progress.update(task, advance=1, count=f"{n}/{total or '?'}")
    finally:
        if progress is not None and task is not None:
            progress.remove_task(task)
    log.info("✓ %s：%d 项（%.1f 秒）", label, n, time.perf_counter() - started)


def finish(ok: bool = True) -> None:
    """End the running step and stop the live display (the CLI calls it when a command ends; ``ok=False`` on error)."""
    _end_step(ok)
    if _S.progress is not None:
        _S.progress.stop()
        _S.progress = None
