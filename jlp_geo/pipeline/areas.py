"""Many areas at once: one 15-minute coverage run per area as a Dask task, plus a merged summary.

``jlp-geo coverage --areas areas.yml --out DIR`` (a region list) or
``jlp-geo coverage --profiles a.yml b.yml --osm extract.osm.pbf --out DIR`` (study-area profiles, each clipped
to its district boundary) runs every area as one task on ``dask.distributed``: a ``LocalCluster`` on this
machine by default, or the cluster at ``--scheduler ADDRESS``.  Each task runs the ordinary coverage job
(:func:`jlp_geo.pipeline.run_coverage`) into ``DIR/<area>/`` inside the run's staging folder; the merged tables
(``DIR/tables/coverage_areas_*.csv``, one ``area`` column in front) are added once every task has finished, and
everything is published into ``DIR`` together.  A failed area stops the run with its error and nothing is
published.

A region list is YAML::

    areas:
      - name: 杨家坪                  # folder name and the 'area' column
        osm: chongqing.osm.pbf       # paths relative to the YAML file
        boundary: yangjiaping.gpkg   # optional: the study area (default: the extent of the OSM data)
        population: pop.tif          # optional, as the coverage options: population, census, dem,
        speed: 60                    #   speed (m/min), analysis_crs, input_crs

Workers must see the same paths (a shared disk) when the cluster is not on this machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..analysis.coverage_tables import HEADERS_ZH, long_table
from ..errors import InputDataError
from ..io import staged_outputs, write_csv
from .coverage import run_coverage

__all__ = ["Area", "AreasResult", "areas_from_profiles", "read_area_list", "run_area", "run_areas"]

AREA_KEYS = {"name", "osm", "boundary", "population", "census", "dem", "speed", "analysis_crs", "input_crs"}
MERGED_TABLES = ("coverage_shares", "coverage_whole_area", "coverage_services")
HEADERS_AREAS = HEADERS_ZH | {"area": "区域 area"}


@dataclass(frozen=True)
class Area:
    """One area of a multi-area run: its name (folder and ``area`` column) and the coverage inputs."""

    name: str
    osm: str
    boundary: Any = None  # a file path or a GeoDataFrame (a profile's district)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        """A file-system-safe folder name for the area's outputs."""
        return re.sub(r"[\\/:*?\"<>|\s]+", "_", self.name).strip("._") or "area"


@dataclass
class AreasResult:
    """What a multi-area run produced: the merged tables (with an ``area`` column) and the files."""

    tables: dict[str, pd.DataFrame]
    files: dict[str, list[Path]]
    summary_files: list[Path]
    scheduler: str


def read_area_list(path: str | Path) -> list[Area]:
    """Read a region list (YAML, see the module docstring); paths are relative to the file.

    Raises
    ------
    InputDataError
        Unreadable file, no ``areas``, an entry without ``name``/``osm``, an unknown key, a duplicate name or
        a missing input file.
    """
    import yaml

    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputDataError(f"cannot read the region list ({exc})", where=str(p), fix="give a YAML file with an 'areas:' list") from exc
    entries = doc.get("areas") if isinstance(doc, dict) else None
    if not isinstance(entries, list) or not entries:
        raise InputDataError("the region list has no 'areas:' entries", where=str(p), fix="list areas as '- {name: ..., osm: ...}'")
    areas = []
    for i, e in enumerate(entries, 1):
        where = f"{p}, area {i}"
        if not isinstance(e, dict) or not e.get("name") or not e.get("osm"):
            raise InputDataError("an area needs 'name' and 'osm'", where=where, fix="add 'name:' and 'osm:' to this entry")
        unknown = set(e) - AREA_KEYS
        if unknown:
            raise InputDataError(f"unknown key(s) {sorted(unknown)}", where=where, fix=f"use only {sorted(AREA_KEYS)}")
        opts = {k: e[k] for k in ("population", "census", "dem", "speed", "analysis_crs", "input_crs") if e.get(k) is not None}
        for key in ("osm", "boundary", "population", "census", "dem"):
            value = e.get(key) if key in ("osm", "boundary") else opts.get(key)
            if value is None or (key in ("population", "dem") and str(value).lower() in ("worldpop", "copernicus")):
                continue
            f = (p.parent / str(value)).resolve()
            if not f.is_file():
                raise InputDataError(f"{key} file not found: {value}", where=where, fix="check the path (relative to the region list)")
            if key in ("osm", "boundary"):
                e = {**e, key: str(f)}
            else:
                opts[key] = str(f)
        areas.append(Area(name=str(e["name"]), osm=e["osm"], boundary=e.get("boundary"), options=opts))
    _check_unique(areas, str(p))
    return areas


def areas_from_profiles(profiles: list[str | Path], osm: str | Path) -> list[Area]:
    """One area per study-area profile: the profile's district boundary (:func:`build_district`) over *osm*."""
    from ..config import load_profile
    from ..layers.admin import build_district

    areas = []
    for path in profiles:
        profile = load_profile(path)
        areas.append(Area(name=profile.name_zh, osm=str(osm), boundary=build_district(profile)))
    _check_unique(areas, "--profiles")
    return areas


def _check_unique(areas: list[Area], where: str) -> None:
    folders = [a.folder for a in areas]
    dupes = sorted({f for f in folders if folders.count(f) > 1})
    if dupes:
        raise InputDataError(f"two areas share the name/folder {dupes}", where=where, fix="give every area its own name")


def run_area(area: Area, out_dir: str | Path, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run one area's coverage job into ``out_dir/<area folder>`` (a Dask task; also callable directly).

    Returns
    -------
    dict
        ``tables`` (long shares, whole area, services; each with the ``area`` column first), ``files`` and
        ``notes`` -- small and picklable, not the whole result.
    """
    kwargs = dict(options or {}) | area.options
    if "speed" in kwargs:
        kwargs["speed_m_per_min"] = float(kwargs.pop("speed"))
    result, files = run_coverage(Path(out_dir) / area.folder, osm=area.osm, boundary=area.boundary, **kwargs)
    whole = result.whole_area.reset_index().rename(columns={"index": "unit"})
    tables = {"coverage_shares": long_table(result), "coverage_whole_area": whole, "coverage_services": result.service_summary}
    tables = {k: v.reset_index(drop=True).assign(area=area.name)[["area", *v.columns]] for k, v in tables.items()}
    return {"area": area.name, "tables": tables, "files": [str(f) for f in files], "notes": list(result.notes)}


def _client(scheduler: str | None, n_workers: int | None):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputDataError("several areas run on Dask, which is not installed", where="--areas/--profiles",
                             fix="pip install 'jlp_geo[dask]' (dask[distributed])") from exc
    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(n_workers=n_workers or 2, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster


def run_areas(
    areas: list[Area],
    out_dir: str | Path,
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    options: dict[str, Any] | None = None,
) -> AreasResult:
    """Run every area as a Dask task, then write the merged tables into ``out_dir/tables``.

    Parameters
    ----------
    areas
        From :func:`read_area_list` or :func:`areas_from_profiles`.
    out_dir
        Output folder: ``out_dir/<area>/`` per area, ``out_dir/tables/coverage_areas_*.csv`` merged.
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``); default a ``LocalCluster``.
    n_workers
        Worker processes of the LocalCluster (default 2, one thread each).
    options
        Coverage options common to all areas (an area's own entries win).

    Returns
    -------
    AreasResult
    """
    if not areas:
        raise InputDataError("no areas to run", where="--areas/--profiles", fix="list at least one area")
    client, cluster = _client(scheduler, n_workers)
    # one staging folder for everything: each task publishes its area into staging/<area>/, then the
    # merged tables are added and the whole set is published into out_dir together (all or nothing)
    with staged_outputs(out_dir, job="coverage_areas") as (staging, files):
        try:
            futures = client.map(run_area, areas, out_dir=str(staging), options=options or {}, pure=False)
            results = client.gather(futures)
            address = client.scheduler.address if client.scheduler else str(scheduler)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        for r in results:
            files.extend(Path(f) for f in r["files"])
        merged = {name: pd.concat([r["tables"][name] for r in results], ignore_index=True) for name in MERGED_TABLES}
        summary = [write_csv(df, staging / "tables" / f"{name.replace('coverage_', 'coverage_areas_')}.csv", HEADERS_AREAS)
                   for name, df in merged.items()]
        files.extend(summary)
    root = Path(out_dir).resolve()
    by_area = {r["area"]: [root / Path(f).relative_to(staging) for f in r["files"]] for r in results}
    return AreasResult(tables=merged, files=by_area, summary_files=[root / Path(f).relative_to(staging) for f in summary],
                       scheduler=address)
