"""One error hierarchy for jlp_geo.

Every error a user can cause says *what* was wrong, *where* (file, column, row or
layer) and *what to do*.  All subclass :class:`JlpGeoError`, and the input errors
also subclass :class:`ValueError` so generic callers can catch them.
"""

from __future__ import annotations


class JlpGeoError(Exception):
    """Base class of every error raised on purpose by jlp_geo."""

    def __init__(self, what: str, where: str | None = None, fix: str | None = None) -> None:
        self.what = what
        self.where = where
        self.fix = fix
        parts = [what]
        if where:
            parts.append(f"where: {where}")
        if fix:
            parts.append(f"what to do: {fix}")
        super().__init__("\n  ".join(parts))


class ProfileError(JlpGeoError, ValueError):
    """The study-area profile (YAML) is missing, malformed or inconsistent."""


class InputDataError(JlpGeoError, ValueError):
    """A user-supplied data file cannot be used as given."""


class CRSError(JlpGeoError, ValueError):
    """A coordinate reference system is missing, unknown or unsuitable."""


class MissingInputError(JlpGeoError, FileNotFoundError):
    """A required input (file, package data, cache) is not available."""


class OutputError(JlpGeoError, OSError):
    """An output could not be written; nothing partial was left behind."""
