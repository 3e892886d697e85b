"""Atomic writing: one file through a temporary sibling, several outputs through one staging folder."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import OutputError

__all__ = ["atomic_path", "staged_outputs"]


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
    except OSError as exc:
        raise OutputError(f"cannot create folder {target.parent}", where=str(target), fix="choose a writable --out folder") from exc
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=suffix or target.suffix, dir=target.parent)
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
def staged_outputs(out_dir: str | Path) -> Iterator[tuple[Path, list[Path]]]:
    """Write several outputs into a staging folder, then move them into *out_dir* together.

    Yields ``(staging, files)``: write each output under *staging* (same relative
    layout as wanted under *out_dir*) and append its path to *files*.  On success
    the files are moved into place and *files* then holds their final paths; on
    any error nothing reaches *out_dir* and the staging folder is removed.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder {out_dir}", where=str(out_dir), fix="choose a writable --out folder") from exc
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out_dir))
    files: list[Path] = []
    try:
        yield staging, files
        final = []
        for f in files:
            target = out_dir / f.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(f, target)
            final.append(target)
        files[:] = final
    finally:
        shutil.rmtree(staging, ignore_errors=True)
