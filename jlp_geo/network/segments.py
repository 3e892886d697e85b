"""How the kept ways become street segments: one segment per pair of consecutive OSM nodes, projected.

Ways are split at every node, so junctions shared by several ways become graph
nodes; segments whose nodes are missing from the extract are dropped (never
joined across) and counted.  Shared by the walk and drive builders.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..crs import transform_xy
from ..errors import InputDataError

__all__ = ["split_segments"]


def split_segments(
    nodes: pd.DataFrame,
    kept_refs: list[list[int]],
    meta: dict[str, Any],
    node_crs: object,
    target: object,
    adjective: str,
    filter_name: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split kept ways into segments between consecutive node refs and project the used nodes.

    Parameters
    ----------
    nodes
        Columns ``id`` (unique), ``lon``, ``lat`` (in *node_crs*).
    kept_refs
        Node refs of each kept way, in order (from :func:`~jlp_geo.network.filters.filter_ways`).
    meta
        Build counts; reads ``ways_in`` / ``ways_kept``, records ``segments_missing_node``.
    node_crs
        CRS of ``lon``/``lat``.
    target
        Metric analysis CRS.
    adjective, filter_name
        Words for the error message (``"walkable"``, ``"walk"``).

    Returns
    -------
    tuple of numpy.ndarray
        ``(a, b, seg_way, used, x, y, seg_len)``: segment end node indices (int32,
        into *used*), the kept-way index of each segment, the row numbers of the used
        nodes in *nodes*, their coordinates in *target* and the segment lengths (m).

    Raises
    ------
    InputDataError
        If node ids repeat, or no segment remains.
    """
    n_ways = len(kept_refs)
    lens = np.fromiter((len(r) for r in kept_refs), dtype=np.int64, count=n_ways)
    all_refs = (
        np.fromiter((nid for r in kept_refs for nid in r), dtype=np.int64, count=int(lens.sum()))
        if n_ways
        else np.empty(0, np.int64)
    )
    ends = np.cumsum(lens)
    seg_mask = np.ones(all_refs.size, dtype=bool)
    seg_mask[ends[lens > 0] - 1] = False  # last ref of each way starts no segment
    seg_pos = np.flatnonzero(seg_mask)
    seg_way = np.repeat(np.arange(n_ways), np.maximum(lens - 1, 0))

    node_index = pd.Index(np.asarray(nodes["id"], dtype=np.int64))
    if not node_index.is_unique:
        dup = node_index[node_index.duplicated()][:5].tolist()
        raise InputDataError(f"node ids repeat in the nodes table, e.g. {dup}", where="nodes table")
    a_row = node_index.get_indexer(all_refs[seg_pos])
    b_row = node_index.get_indexer(all_refs[seg_pos + 1])
    ok = (a_row >= 0) & (b_row >= 0)
    meta["segments_missing_node"] = int((~ok).sum())
    ok &= a_row != b_row
    a_row, b_row, seg_way = a_row[ok], b_row[ok], seg_way[ok]
    if a_row.size == 0:
        raise InputDataError(
            f"no {adjective} street segment in the OSM data ({meta['ways_kept']} of {meta['ways_in']} ways pass "
            f"the {filter_name} filter, {meta['segments_missing_node']} segments lack their nodes)",
            where="OSM ways/nodes tables",
            fix="check that the extract covers the study area and includes highway=* ways with their nodes",
        )
    used, inv = np.unique(np.concatenate([a_row, b_row]), return_inverse=True)
    a = inv[: a_row.size].astype(np.int32)
    b = inv[a_row.size :].astype(np.int32)
    lon = np.asarray(nodes["lon"], dtype=float)[used]
    lat = np.asarray(nodes["lat"], dtype=float)[used]
    x, y = transform_xy(lon, lat, node_crs, target)
    return a, b, seg_way, used, x, y, np.hypot(x[b] - x[a], y[b] - y[a])
