"""The jobs: the only orchestrator, and the only room that calls both analyses and outputs.

Each job reads its inputs, runs the analyses (which return result objects and never write),
then hands the results to the outputs (GeoPackage, tables, maps, reports) and publishes them.
Only :mod:`jlp_geo.cli` imports this package.

=================  =============================================================
job                what it does
=================  =============================================================
``run_build``      every plan layer + atlas, the waste analysis, the indicator report,
                   and the 15-minute coverage when OSM is given or cached
``run_coverage``   the 15-minute coverage (``jlp-geo coverage``)
``run_areas``      many areas' coverage as Dask tasks + merged tables (``jlp-geo coverage --areas``)
``run_circles``    the 15-minute life-circle units (``jlp-geo circles``)
``run_waste``      the construction-waste analysis (``jlp-geo waste``)
``run_report``     the plan-indicator report (``jlp-geo report``)
``run_siting``     where to add facilities, 补短板 (``jlp-geo site``)
=================  =============================================================
"""

from .areas import read_area_list, run_areas
from .build import run_build, summarise
from .circles import circles_from_coverage, circles_from_inputs, run_circles, write_circles_outputs
from .coverage import coverage_from_inputs, run_coverage, write_coverage_outputs
from .plan import BuildResult, PlanLayers, build_plan_layers, layer_counts, write_plan_outputs
from .report import run_report
from .siting import run_siting, siting_from_inputs, write_siting_outputs
from .waste import run_waste, write_waste_outputs

__all__ = [
    "BuildResult",
    "PlanLayers",
    "build_plan_layers",
    "circles_from_coverage",
    "circles_from_inputs",
    "coverage_from_inputs",
    "layer_counts",
    "read_area_list",
    "run_areas",
    "run_build",
    "run_circles",
    "run_coverage",
    "run_report",
    "run_siting",
    "run_waste",
    "siting_from_inputs",
    "summarise",
    "write_circles_outputs",
    "write_coverage_outputs",
    "write_plan_outputs",
    "write_siting_outputs",
    "write_waste_outputs",
]
