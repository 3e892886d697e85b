"""Work handed to a second process while the analysis goes on: one core analyses, the other draws.

:class:`Background` runs a function in a **forked** child (the network and costs are shared
copy-on-write, nothing is pickled on the way in) and hands its return value back, pickled, when
:meth:`Background.result` is called.  Where a fork is unavailable or pointless -- no ``fork`` start
method, a daemonic process (a Dask worker), one CPU, or ``JLP_GEO_BACKGROUND=0`` -- the function runs
right away in the calling process instead, so the result is the same either way; only the time differs.

The child writes nothing; it is a daemon, so an interrupted run ends it with the parent.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import traceback
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Background", "background_enabled"]

T = TypeVar("T")


def background_enabled() -> bool:
    """Whether :class:`Background` forks here (see the module's docstring)."""
    if os.environ.get("JLP_GEO_BACKGROUND", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    if "fork" not in multiprocessing.get_all_start_methods() or (os.cpu_count() or 1) < 2:
        return False
    return not multiprocessing.current_process().daemon


def _end(process: Any, fd: int) -> None:
    if process.is_alive():
        process.terminate()
        process.join()
    try:
        os.close(fd)
    except OSError:
        pass


def _trim_heap() -> None:
    """Collect garbage, then (glibc) return the heap's free pages to the system (``malloc_trim``).

    What the parent has freed but not returned would otherwise be copied into the child's view of
    memory and stay there while the child runs (the OSM tables of a 500k-node extract: about 200 MB).
    """
    import gc

    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except Exception:
        pass


def _die_with_parent() -> None:
    """Linux: the kernel ends this child when its parent dies (even by SIGKILL); elsewhere nothing."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # not Linux / no libc: the daemon flag still ends it with a normal exit
        pass


_WORK: list[tuple[Callable[..., Any], tuple, dict]] = []  # the work the next fork takes (not kept by the parent)


def _close_inherited_pipes(keep: int) -> None:
    """Close the pipes and sockets the fork inherited (but *keep* and the standard streams).

    Another component's pipe held open here would keep its peer waiting for an end of file: e.g. a
    browser driver started by the parent would never see the parent close it.  Regular files (the
    PROJ database, open datasets) stay open.
    """
    import stat

    try:
        fds = [int(f) for f in os.listdir("/proc/self/fd")]
    except OSError:  # no /proc: nothing to do safely
        return
    for fd in fds:
        if fd <= 2 or fd == keep:
            continue
        try:
            mode = os.fstat(fd).st_mode
            if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
                os.close(fd)
        except OSError:
            pass


def _child(fd: int) -> None:
    _die_with_parent()
    _close_inherited_pipes(fd)
    fn, args, kwargs = _WORK.pop()
    try:
        kind, value = b"k", fn(*args, **kwargs)
    except BaseException as exc:  # handed back and raised in the parent
        kind, value = b"e", exc
    try:
        with os.fdopen(fd, "wb") as stream:  # pickled straight into the pipe: no second copy as bytes
            stream.write(kind)
            try:
                pickle.dump(value, stream, protocol=pickle.HIGHEST_PROTOCOL)
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                if kind == b"k":
                    raise
                pickle.dump(RuntimeError("".join(traceback.format_exception(value)) + f"\n({exc})"), stream)
    except OSError:  # the parent is gone (interrupted): nobody waits for the result
        pass


class Background(Generic[T]):
    """``fn(*args, **kwargs)`` computed in a forked process; :meth:`result` waits for it.

    Parameters
    ----------
    fn
        The work; its return value must pickle.
    *args, **kwargs
        Its arguments (not pickled: the child is a fork).
    """

    def __init__(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> None:
        self._done = False
        self._value: Any = None
        self._error: BaseException | None = None
        self._process = None
        if not background_enabled():
            try:
                self._value = fn(*args, **kwargs)
            except BaseException as exc:  # raised by result(), where the forked run would raise it
                self._error = exc
            self._done = True
            return
        _trim_heap()  # memory the process has freed goes back to the system, not into the child's copy
        ctx = multiprocessing.get_context("fork")
        self._read, write = os.pipe()
        # the child finds its work in _WORK (inherited by the fork), so the parent keeps no reference to
        # the arguments once the child runs: their memory can go back while the child still works
        _WORK.append((fn, args, kwargs))
        try:
            self._process = ctx.Process(target=_child, args=(write,), daemon=True, name="jlp_geo-background")
            self._process.start()
        finally:
            _WORK.clear()
            os.close(write)
        # a result nobody asks for: the child is ended when this object goes (it would wait to send forever)
        self._finalizer = weakref.finalize(self, _end, self._process, self._read)

    @property
    def forked(self) -> bool:
        """Whether the work runs in a child process."""
        return self._process is not None

    def result(self) -> T:
        """The function's return value (waits for the child); its exception is raised here."""
        if not self._done:
            self._finalizer.detach()
            try:
                with os.fdopen(self._read, "rb") as stream:  # unpickled straight from the pipe
                    kind = stream.read(1)
                    value = pickle.load(stream) if kind else None
            except (EOFError, pickle.UnpicklingError):
                kind = b""
            finally:
                self._process.join()
            if kind == b"k":
                self._value = value
            elif kind == b"e":
                self._error = value
            else:
                self._error = RuntimeError(f"the background process ended without a result (exit {self._process.exitcode})")
            self._done = True
        if self._error is not None:
            raise self._error
        return self._value

    def cancel(self) -> None:
        """End the child if it still runs (its result is then lost)."""
        if self._process is not None:
            self._finalizer()
