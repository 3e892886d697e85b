"""The H3 hexes of the coverage map, in few bytes per hex (tens of thousands of hexes at district scale).

:func:`hex_data` turns ``result.by_hex`` into parallel arrays the page runtime
(:mod:`jlp_geo.viz.coverage_runtime`) decodes:

* **outlines**: every hex of one H3 resolution has nearly the same shape in
  longitude/latitude over a city, so the page gets one shared hexagon (``tpl``,
  vertex offsets from the centre) and the centres of all hexes as one encoded
  polyline (``c``, :func:`~jlp_geo.viz.geometry.encode_rings`); a hex whose
  vertices would be more than :data:`TEMPLATE_TOLERANCE` from the template
  (another resolution, a pentagon, a different vertex order) gets its own encoded
  ring in ``ring``;
* **ids**: the H3 cells without the prefix and suffix they all share (``affix``);
* **classes**: one colour-class character per category (computed in Python by
  :func:`~jlp_geo.viz.coverage_data.share_codes`, as before);
* **shares** in per mille, only where the class does not already say it
  (:func:`share_tokens`): a gap is 0, no population is "—".

Population is written as integers where it is whole; node counts only when they
differ from it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from ..crs import to_display
from .coverage_data import escape_all, share_codes
from .escape import escape_text
from .geometry import COORD_DECIMALS, encode_rings

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.accessibility import CoverageResult

__all__ = ["FULL_SHARE", "SHARE_ALPHABET", "TEMPLATE_TOLERANCE", "decode_share_tokens", "hex_data", "share_tokens"]

#: 64 characters that need no escaping in JSON, HTML or Jinja: a share in per mille
#: 0..999 is two of them (``v // 64``, ``v % 64``; the first is one of the first 16).
SHARE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
#: The one-character token of a share of 1000 per mille (100 %).
FULL_SHARE = "~"
#: Largest distance, in units of 1e-5 degree (about 1 m), between a hex's exact vertex
#: and the one drawn from its centre and the shared hexagon; beyond it the hex gets its own ring.
TEMPLATE_TOLERANCE = 2.0


def share_tokens(codes: np.ndarray, shares: np.ndarray) -> list[str]:
    """Per hex, the shares (per mille) of the categories whose class is a colour index, as a short string.

    Parameters
    ----------
    codes
        ``(n_hex, n_cat)`` class codes (:func:`~jlp_geo.viz.coverage_data.share_codes`, ``"-"``).
    shares
        ``(n_hex, n_cat)`` shares 0..1.

    Returns
    -------
    list of str
        One string per hex: for each category in order whose code is a digit,
        :data:`FULL_SHARE` for 1000 per mille, else two :data:`SHARE_ALPHABET`
        characters; nothing for ``g`` (0), ``n`` and ``-`` (no share shown).

    Examples
    --------
    >>> share_tokens(np.array([["g", "5", "2", "n"]]), np.array([[0.0, 1.0, 0.4567, np.nan]]))
    ['~79']
    >>> decode_share_tokens("g52n", "~79")
    [0, 1000, 457, None]
    """
    codes = np.asarray(codes)
    if codes.size == 0:
        return [""] * len(codes)
    digit = np.char.isdigit(codes)
    permille = np.where(digit, np.round(np.nan_to_num(np.asarray(shares, dtype=float)) * 1000), 0).astype(np.int64)
    alphabet = np.array(list(SHARE_ALPHABET))
    pairs = np.char.add(alphabet[np.clip(permille // 64, 0, 63)], alphabet[permille % 64])
    tokens = np.where(digit, np.where(permille >= 1000, FULL_SHARE, pairs), "")
    out = tokens[:, 0]
    for k in range(1, tokens.shape[1]):
        out = np.char.add(out, tokens[:, k])
    return out.tolist()


def decode_share_tokens(codes: str, tokens: str) -> list[int | None]:
    """The shares in per mille of one hex back from its class codes and :func:`share_tokens` string (as the page does)."""
    out: list[int | None] = []
    j = 0
    for code in codes:
        if code.isdigit():
            if tokens[j] == FULL_SHARE:
                out.append(1000)
                j += 1
            else:
                out.append(SHARE_ALPHABET.index(tokens[j]) * 64 + SHARE_ALPHABET.index(tokens[j + 1]))
                j += 2
        else:
            out.append(0 if code == "g" else None)
    return out


def _class_matrix(hexes: Any, cats: list[dict[str, Any]], pop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes = np.full((len(hexes), len(cats)), "-", dtype="<U1")
    shares = np.full((len(hexes), len(cats)), np.nan)
    for k, cat in enumerate(cats):
        if cat["ok"]:
            shares[:, k] = hexes[cat["column"]].to_numpy(float)
            codes[:, k] = share_codes(shares[:, k], pop)
    return codes, shares


def _affix(ids: list[str]) -> tuple[str, str]:
    """The prefix and suffix every id shares (each id keeps at least one character of its own)."""
    if len(ids) < 2:
        return "", ""
    prefix = os.path.commonprefix(ids)[: min(len(i) for i in ids) - 1]
    rest = [i[len(prefix):] for i in ids]
    keep = min(len(r) for r in rest) - 1
    suffix = os.path.commonprefix([r[::-1] for r in rest])[:keep][::-1] if keep > 0 else ""
    return prefix, suffix


def _outlines(geoms: np.ndarray) -> tuple[str, list[list[float]], dict[str, str]]:
    """Centres (one encoded polyline), the shared hexagon and the rings of the hexes that do not fit it."""
    polys = np.asarray(geoms, dtype=object).copy()
    multi = np.flatnonzero(shapely.get_type_id(polys) == 6)
    polys[multi] = [max(g.geoms, key=lambda p: p.area) for g in polys[multi]]  # as drawn before: the largest part
    rings = shapely.get_exterior_ring(polys)
    counts = shapely.get_num_coordinates(rings) - 1  # without the closing vertex
    xy = shapely.get_coordinates(rings)
    closing = np.zeros(len(xy), dtype=bool)
    closing[np.cumsum(counts + 1) - 1] = True
    xy = xy[~closing]
    scale = 10**COORD_DECIMALS
    ring_of = np.repeat(np.arange(len(polys)), counts)
    centre = np.round(np.stack([np.bincount(ring_of, xy[:, d], len(polys)) for d in (1, 0)], axis=1)
                      / np.maximum(counts, 1)[:, None] * scale)  # lat, lng in 1e-5 degree
    six = counts == 6
    tpl = np.zeros((6, 2))
    own = ~six
    if six.any():
        offsets = xy[np.repeat(six, counts)].reshape(-1, 6, 2)[:, :, ::-1] * scale - centre[six][:, None, :]
        tpl = np.round(np.median(offsets, axis=0), 2)
        err = np.abs(offsets - tpl).max(axis=(1, 2))
        own[np.flatnonzero(six)[err > TEMPLATE_TOLERANCE]] = True
    centres = encode_rings(centre[:, ::-1] / scale, np.array([len(polys)]))[0]
    starts = np.cumsum(counts) - counts
    mine = np.flatnonzero(own)
    if len(mine):
        take = np.concatenate([np.arange(starts[i], starts[i] + counts[i]) for i in mine])
        encoded = encode_rings(xy[take], counts[mine])
    else:
        encoded = []
    return centres, tpl.tolist(), {str(i): r for i, r in zip(mine.tolist(), encoded)}


def hex_data(result: CoverageResult, cats: list[dict[str, Any]]) -> tuple[dict[str, Any], tuple[float, float, float, float]]:
    """The H3 hexes as parallel arrays, and their display bounds.

    Parameters
    ----------
    result
        The coverage analysis (``by_hex``).
    cats
        Menu entries from :func:`~jlp_geo.viz.coverage_data.coverage_categories`.

    Returns
    -------
    data : dict
        ``id`` (escaped H3 cell without ``affix`` = [prefix, suffix]), ``c`` (encoded
        centres, lat/lng), ``tpl`` (the shared hexagon: six [lat, lng] offsets in 1e-5
        degree), ``ring`` (index -> own encoded ring), ``pop`` (population, or node
        weight), ``cls`` (one class character per category, ``"-"`` where the
        category has no share), ``s`` (:func:`share_tokens`) and, when they differ
        from ``pop``, ``nodes``.
    bounds : tuple of float
        ``(west, south, east, north)`` in degrees (NaN when there are no hexes).
    """
    hexes = result.by_hex
    shown = to_display(hexes[[hexes.geometry.name]])
    pop = hexes["population"].to_numpy(float) if "population" in hexes.columns else np.zeros(len(hexes))
    pop = np.nan_to_num(pop, nan=0.0)
    codes, shares = _class_matrix(hexes, cats, pop)
    raw_ids = hexes["h3_cell"].astype(str).tolist() if "h3_cell" in hexes.columns else [""] * len(hexes)
    prefix, suffix = _affix(raw_ids)
    cut = slice(len(prefix), -len(suffix) if suffix else None)
    centres, tpl, own = _outlines(shown.geometry.values) if len(hexes) else ("", [[0.0, 0.0]] * 6, {})
    pops = np.round(pop, 1).tolist()
    data: dict[str, Any] = {
        "affix": [escape_text(prefix), escape_text(suffix)],
        "id": escape_all(i[cut] for i in raw_ids),
        "c": centres,
        "tpl": tpl,
        "ring": own,
        "pop": [int(p) if p.is_integer() else p for p in pops],
        "cls": ["".join(row) for row in codes.tolist()],
        "s": share_tokens(codes, shares),
    }
    if "n_nodes" in hexes.columns:
        nodes = hexes["n_nodes"].fillna(0).astype(int).to_numpy()
        if not np.array_equal(nodes, pop):
            data["nodes"] = nodes.tolist()
    bounds = tuple(float(v) for v in shown.total_bounds) if len(shown) else (np.nan,) * 4
    return data, bounds  # type: ignore[return-value]
