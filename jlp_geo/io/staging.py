"""Atomic writing: one file through a temporary sibling, a whole job's outputs through one staging folder.

:func:`staged_outputs` is the one publish step of every job (``build``, ``coverage``, ``waste``, ``report``):

* everything is written into ``OUT/.staging-<pid>-<random>/`` first; on any error, Ctrl-C or SIGTERM
  (turned into :class:`KeyboardInterrupt` while a job runs, see :func:`signals_as_interrupts`) the staging
  folder is removed and ``OUT`` is left byte-identical;
* staging folders left by a killed run (``kill -9``, power loss) are removed by the next run;
* before anything is replaced every target is checked (a read-only or locked file, a folder in the way):
  if one cannot be replaced the job stops with :class:`~jlp_geo.errors.OutputError` and nothing moves;
* publishing moves the old files aside into the staging folder first, so a failure half-way through is rolled
  back: never a folder holding some new and some old files;
* ``OUT/jlp_geo_manifest.json`` records which files each job wrote; files a job wrote last time and does not
  write now (e.g. ``coverage.gpkg`` from a run with ``--osm``) are removed when it publishes;
* a non-empty folder without a manifest (not created by jlp_geo) is refused unless ``--force``
  (:func:`output_policy`), so a mistyped ``--out`` never mixes outputs into someone else's files.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import datetime as dt
import importlib.metadata
import json
import os
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from ..errors import JlpGeoError, OutputError

__all__ = [
    "MANIFEST_NAME",
    "STAGING_PREFIX",
    "atomic_path",
    "check_output_folder",
    "output_policy",
    "read_manifest",
    "remove_stale_staging",
    "signals_as_interrupts",
    "staged_outputs",
]

#: file in every output folder listing what each jlp_geo job wrote there
MANIFEST_NAME = "jlp_geo_manifest.json"
#: manifest key of the files written by jobs that give no name
UNNAMED_JOB = "outputs"
#: prefix of the staging folders (``.staging-<pid>-<random>``)
STAGING_PREFIX = ".staging-"

_ACTIVE: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar("jlp_geo_active_staging", default=())
_FORCE: contextvars.ContextVar[bool] = contextvars.ContextVar("jlp_geo_force_output", default=False)
#: output folders this process staged in: at exit, any staging folder of this process left there is removed
_STAGED_IN: set[Path] = set()


@atexit.register
def _remove_own_staging() -> None:
    """Last resort: an interruption that lands between a context manager's steps skips its ``finally``."""
    for folder in list(_STAGED_IN):
        for path in folder.glob(f"{STAGING_PREFIX}{os.getpid()}-*"):
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def atomic_path(target: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside *target*; move it onto *target* only on success.

    Parameters
    ----------
    target
        Final file path.
    suffix
        Suffix of the temporary file (defaults to *target*'s, so drivers that
        look at extensions still work).
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=suffix or target.suffix, dir=target.parent)
    except OSError as exc:
        raise OutputError(f"cannot write in the folder {target.parent} ({exc.strerror or exc})", where=str(target),
                          fix="choose a writable --out folder") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # drivers want to create the file themselves
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def output_policy(*, force: bool = False) -> Iterator[None]:
    """Within this block, jobs may write into a non-empty folder jlp_geo did not create (``--force``)."""
    token = _FORCE.set(force)
    try:
        yield
    finally:
        _FORCE.reset(token)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


@contextlib.contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """Turn SIGTERM (and SIGHUP) into :class:`KeyboardInterrupt`, like Ctrl-C, so every cleanup runs.

    Only in the main thread (Python delivers signals there); elsewhere a no-op.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    old = {s: signal.signal(s, _raise_interrupt) for s in wanted}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else
    return True


def remove_stale_staging(out_dir: str | Path) -> list[Path]:
    """Remove staging folders in *out_dir* left by runs that no longer exist (killed, crashed).

    Folders named ``.staging-<pid>-…`` whose process is alive are kept (a concurrent run); folders of the
    older ``.staging-<random>`` form carry no pid and are removed.

    Returns
    -------
    list of Path
        The folders removed.
    """
    out_dir = Path(out_dir)
    removed = []
    if not out_dir.is_dir():
        return removed
    active = set(_ACTIVE.get())
    for p in out_dir.glob(f"{STAGING_PREFIX}*"):
        if not p.is_dir() or p in active:
            continue
        head = p.name[len(STAGING_PREFIX):].split("-", 1)[0]
        if head.isdigit() and _pid_alive(int(head)):
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def read_manifest(out_dir: str | Path) -> dict | None:
    """The manifest of *out_dir* (``{"generator", "jobs": {job: {"files": [...], "written": iso}}}``), or None."""
    path = Path(out_dir) / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OutputError(f"the manifest {MANIFEST_NAME} cannot be read ({exc})", where=str(path),
                          fix="delete the output folder (or just this file) and run again") from exc
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), dict):
        raise OutputError(f"the manifest {MANIFEST_NAME} is not a jlp_geo manifest", where=str(path),
                          fix="delete the output folder (or just this file) and run again")
    return data


def _writable(path: Path) -> bool:
    """Writable for us, and not marked read-only (root may write anything: the read-only mark is still respected)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    need = os.W_OK | (os.X_OK if path.is_dir() else 0)
    return os.access(path, need) and bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _inside_active_staging(out_dir: Path) -> bool:
    resolved = out_dir.resolve()
    return any(resolved == s or s in resolved.parents for s in _ACTIVE.get())


def _legacy_output(path: Path) -> bool:
    """What a jlp_geo from before manifests wrote at the top of --out: tables/, maps/, *.gpkg, *.html."""
    if path.is_dir():
        return path.name in ("tables", "maps") and all(p.suffix in (".csv", ".xlsx", ".html") for p in path.iterdir())
    return path.suffix in (".gpkg", ".html")


def check_output_folder(out_dir: str | Path) -> Path:
    """Check before any work that *out_dir* can take this job's outputs; return it resolved.

    Raises
    ------
    OutputError
        *out_dir* is a file, cannot be created or written, or is a non-empty folder without a jlp_geo
        manifest (unless :func:`output_policy` ``force=True``).
    """
    out_dir = Path(out_dir)
    if _inside_active_staging(out_dir):
        return out_dir
    fix = "choose another --out folder (a new or empty one, or one jlp_geo wrote before)"
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError("--out is a file, not a folder", where=str(out_dir), fix=fix)
    if not out_dir.exists():  # checked, not created: a run that stops on bad input leaves no empty folder
        parent = out_dir.absolute().parent
        while not parent.exists():
            parent = parent.parent
        if not parent.is_dir() or not _writable(parent):
            raise OutputError(f"cannot create the output folder ({parent} is not a writable folder)", where=str(out_dir), fix=fix)
        return out_dir
    if not _writable(out_dir):
        raise OutputError("the output folder is not writable (permission denied)", where=str(out_dir), fix=fix)
    remove_stale_staging(out_dir)
    if read_manifest(out_dir) is None and not _FORCE.get():
        foreign = [p.name for p in out_dir.iterdir() if not p.name.startswith(STAGING_PREFIX)]
        if foreign and all(_legacy_output(out_dir / name) for name in foreign):
            return out_dir  # written by a jlp_geo from before manifests (e.g. `make run` into out/): accepted
        if foreign:
            raise OutputError(
                f"the output folder is not empty and jlp_geo did not create it (no {MANIFEST_NAME}); it holds "
                f"{len(foreign)} item(s) such as {', '.join(sorted(foreign)[:5])}",
                where=str(out_dir),
                fix="choose a new or empty --out folder, or pass --force to write into it anyway (its files are kept)",
            )
    return out_dir


def _check_replaceable(out_dir: Path, rel_paths: list[Path]) -> None:
    """Stop before publishing if any target cannot be replaced or removed (read-only, locked, a folder)."""
    problems = []
    for rel in rel_paths:
        target = out_dir / rel
        if target.is_dir():
            problems.append(f"{rel} is a folder")
            continue
        if target.exists() and not _writable(target):
            problems.append(f"{rel} is read-only or locked (open in Excel/QGIS?)")
            continue
        parent = target.parent
        while not parent.exists() and parent != out_dir:
            parent = parent.parent
        if parent.exists() and not parent.is_dir():
            problems.append(f"{parent.relative_to(out_dir)} is a file, a folder is needed there")
        elif not _writable(parent):
            problems.append(f"folder {parent.relative_to(out_dir) if parent != out_dir else '.'} is not writable")
    if problems:
        raise OutputError(
            "cannot replace the outputs; nothing was changed: " + "; ".join(problems[:8]),
            where=str(out_dir),
            fix="close the files (Excel, QGIS), make them writable, or choose another --out folder",
        )


def _version() -> str:
    try:
        return importlib.metadata.version("jlp_geo")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _publish(out_dir: Path, staging: Path, files: list[Path], job: str | None, manifest: dict | None) -> list[Path]:
    """Move the staged *files* into *out_dir*, remove what *job* wrote last time and not now; all or nothing."""
    rel_new = [f.relative_to(staging) for f in files]
    new_set = {r.as_posix() for r in rel_new}
    jobs = dict((manifest or {}).get("jobs", {}))
    kept_by_others = {f for j, entry in jobs.items() if j != job for f in entry.get("files", [])}
    stale = [Path(f) for f in jobs.get(job, {}).get("files", [])
             if job is not None and f not in new_set and f not in kept_by_others and (out_dir / f).is_file()]
    if job is None:  # an unnamed job only adds to what is recorded: it never removes anything
        job = UNNAMED_JOB
        new_set |= set(jobs.get(job, {}).get("files", []))
    _check_replaceable(out_dir, rel_new + stale + [Path(MANIFEST_NAME)])
    jobs[job] = {"files": sorted(new_set), "written": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    manifest_tmp = staging / MANIFEST_NAME
    manifest_tmp.write_text(json.dumps({"generator": f"jlp_geo {_version()}", "jobs": jobs}, ensure_ascii=False, indent=1),
                            encoding="utf-8")
    backup = staging / ".old"
    done: list[tuple[Path, Path | None, Path | None]] = []  # (target, backup of the old file, staged source)
    try:
        for src, rel in [*zip(files, rel_new), (manifest_tmp, Path(MANIFEST_NAME))]:
            target = out_dir / rel
            old = None
            if target.exists():
                old = backup / rel
                old.parent.mkdir(parents=True, exist_ok=True)
                os.replace(target, old)
            done.append((target, old, src))
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, target)
        for rel in stale:
            old = backup / rel
            old.parent.mkdir(parents=True, exist_ok=True)
            done.append((out_dir / rel, old, None))
            os.replace(out_dir / rel, old)
    except BaseException as exc:
        _rollback(done)
        if isinstance(exc, OSError) and not isinstance(exc, JlpGeoError):
            raise OutputError(f"publishing the outputs failed ({exc}); the previous outputs were restored", where=str(out_dir),
                              fix="close the files (Excel, QGIS), make them writable, or choose another --out folder") from exc
        raise
    return [out_dir / r for r in rel_new]


def _block_signals() -> set | None:
    """Hold SIGINT/SIGTERM back (delivered when :func:`_unblock_signals` is called); returns the previous mask."""
    can_mask = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM}) if can_mask else None


def _unblock_signals(previous: set | None) -> None:
    if previous is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _rollback(done: list[tuple[Path, Path | None, Path | None]]) -> None:
    """Undo a partial publish (signals held back meanwhile, so an interruption cannot leave it half-undone)."""
    previous = _block_signals()
    try:
        for target, old, src in reversed(done):
            with contextlib.suppress(OSError):
                if src is not None and target.exists():
                    os.replace(target, src)
                if old is not None and old.exists():
                    os.replace(old, target)
    finally:
        _unblock_signals(previous)


@contextlib.contextmanager
def staged_outputs(out_dir: str | Path, job: str | None = None) -> Iterator[tuple[Path, list[Path]]]:
    """Write a job's outputs into one staging folder, then publish them into *out_dir* together.

    Yields ``(staging, files)``: write each output under *staging* (same relative layout as wanted under
    *out_dir*) and append its path to *files*.  On success the files are moved into place (replacing older
    ones, removing the files *job* wrote last time and not this time) and *files* then holds their final
    paths; on any error or interruption nothing in *out_dir* changes and the staging folder is removed.
    Called inside another job's staging folder (the build writes the report), it writes straight there.

    Parameters
    ----------
    out_dir
        The output folder (``--out``).
    job
        Name under which the manifest records the files (``build``, ``coverage``, ``waste``, ``report``); the
        files a named job wrote last time and not this time are removed.  None: files are only added to the
        record (under ``outputs``), nothing is removed.
    """
    out_dir = Path(out_dir)
    if _inside_active_staging(out_dir):
        out_dir.mkdir(parents=True, exist_ok=True)
        yield out_dir, []
        return
    check_output_folder(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder ({exc.strerror or exc})", where=str(out_dir),
                          fix="choose a writable --out folder") from exc
    _STAGED_IN.add(out_dir.resolve())
    held = _block_signals()  # an interruption between creating the staging folder and the cleanup below waits
    try:
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=out_dir)).resolve()
    except OSError as exc:
        _unblock_signals(held)
        raise OutputError(f"cannot write in the output folder ({exc.strerror or exc})", where=str(out_dir),
                          fix="choose a writable --out folder") from exc
    files: list[Path] = []
    token = _ACTIVE.set((*_ACTIVE.get(), staging))
    try:
        _unblock_signals(held)  # inside the try: a held-back Ctrl-C / SIGTERM now still removes the staging folder
        with signals_as_interrupts():
            try:
                yield staging, files
            except OSError as exc:
                if isinstance(exc, JlpGeoError):
                    raise
                raise OutputError(f"writing the outputs failed ({exc}); nothing was changed", where=str(out_dir),
                                  fix="check free disk space and permissions, or choose another --out folder") from exc
            staged = list(dict.fromkeys(f if f.is_absolute() else f.resolve() for f in files))  # each file once
            files[:] = _publish(out_dir, staging, staged, job, read_manifest(out_dir))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(ValueError):  # finalised from another context (garbage collection)
            _ACTIVE.reset(token)
