"""15分钟生活圈单元: life-circle planning units, delineated or given, scored against the service checklist.

* :func:`analyse_circles` — the whole analysis on a coverage result (returns :class:`CirclesResult`);
* :func:`units_table` — one row per unit with the checklist as Chinese columns;
* :func:`load_circle_parameters` — the stated parameters of ``layers/life_circles.yml``;
* :func:`delineate_nodes` — the array core: seeded network-Voronoi growth nested in groups.
"""

from .analyse import STUDY_AREA_ZH, analyse_circles
from .delineate import Delineation, delineate_nodes
from .parameters import CircleParameters, category_level, load_circle_parameters
from .result import TABLE_HEADERS_ZH, CirclesResult, units_table
from .score import NO_DATA

__all__ = [
    "NO_DATA",
    "STUDY_AREA_ZH",
    "TABLE_HEADERS_ZH",
    "CircleParameters",
    "CirclesResult",
    "Delineation",
    "analyse_circles",
    "category_level",
    "delineate_nodes",
    "load_circle_parameters",
    "units_table",
]
