"""Construction-waste analysis: capacity balance, landfill life, haul catchments and siting screens.

Built on the waste layer and plan tables of :mod:`jlp_geo.layers.waste` (建筑垃圾规划 2025–2027):

1. **Balance** (产消平衡, :func:`balance_table`): the 2027 forecasts of 第三章 against the facilities of
   第十六–十九条, 第二十七条 and 附表1–4, one row per figure or check, with the arithmetic written out.
   Units stay as the plan gives them (万立方米 for 工程渣土/工程泥浆, 万吨 for the rest); the only
   conversion -- needed where the plan itself mixes the units (综合利用率 over *all* five types, ton-km of
   spoil) -- uses the stated density of ``layers/waste_parameters.yml`` and says so.
2. **Landfill life** (:func:`landfill_life_table`): years until full = fill volume / annual landfilled
   volume, for 锣鼓洞 (400 万方), 岩洞湾 under *both* of the plan's values (312 万方 in 第十九条 and
   附表4, 326 万立方米 in 第二十七条（二）; the conflict is flagged), and both together.
3. **Generation by 镇街** (:func:`allocate_generation`): the user's figures when given, otherwise the plan
   totals allocated by a stated proxy (area, population or construction activity), over the 13 directly
   administered 镇街 the plan covers (第二条).
4. **Haul** (:func:`straight_line_costs`, :func:`network_costs`, :func:`solve_transport`): distances from each
   镇街 (or user-given construction site) to each *located* facility -- on the OSM drive network when OSM
   data is given, otherwise straight line × a stated detour factor, labelled; catchments (nearest facility
   by haul distance) and a capacity-respecting allocation that minimises ton-km (a transportation problem
   solved with ``scipy.optimize.linprog``/HiGHS).  Facilities the plan does not place (综合利用厂 “西部片区”,
   the 新启 base) are excluded with a note -- no site is invented; the facility points are town-level
   estimates (±3–4 km) and every haul figure carries that uncertainty.
5. **Siting screens** (邻避, 第四条（五）; routes avoiding 人口密集区, 第十四条（二）,
   :func:`siting_screens`): population and sensitive receptors (schools, hospitals, care homes,
   residential land) within configurable buffers of each located facility, from OSM and population
   data when given; the share of each haul route through residential land.

:func:`analyse_waste` computes everything without writing; :func:`jlp_geo.pipeline.run_waste` writes
``waste.gpkg``, ``tables/waste_*.csv``, ``maps/waste.html`` and ``waste_report.html`` through a staging
folder.

One module per question:

=========================  ===================================================================
:mod:`.parameters`         waste types, streams, file names, the stated parameters
:mod:`.figures`            what the plan states (forecasts, capacities, fill volumes, targets)
:mod:`.balance`            产消平衡 and landfill life
:mod:`.generation`         generation per 镇街 (scope, allocation proxy)
:mod:`.haul`               haul distances and the transportation problem
:mod:`.flows`              per-stream origins, capacities, catchments and flows
:mod:`.screens`            邻避 screens, buffers, receptors, routes through residential land
:mod:`.result`             :class:`WasteResult`, its layers, tables and key findings
:mod:`.analyse`            :func:`analyse_waste`, which runs the rest
=========================  ===================================================================

The planner's input files (generation CSV, population raster or census) are read by
:mod:`jlp_geo.sources.waste_inputs`; :func:`read_generation_file`, :func:`read_population` and
:class:`PopulationData` are re-exported here.
"""

from __future__ import annotations

from ...sources.waste_inputs import PopulationData, read_generation_file, read_population
from .analyse import analyse_waste
from .balance import balance_table, balance_value, fill_scenarios, landfill_life_table
from .figures import PlanFigures, format_plan_number, plan_figures
from .generation import allocate_generation
from .haul import HaulCosts, TransportSolution, network_costs, solve_transport, straight_line_costs, straight_line_label
from .parameters import (
    GPKG_NAME,
    MAP_NAME,
    PARAMETERS_FILE,
    REPORT_NAME,
    STREAMS,
    TYPES,
    Stream,
    WasteParameters,
    load_parameters,
)
from .result import COLUMNS_ZH, WasteResult
from .screens import route_dense_share, route_residential_length, siting_screens

__all__ = [
    "COLUMNS_ZH",
    "GPKG_NAME",
    "MAP_NAME",
    "PARAMETERS_FILE",
    "REPORT_NAME",
    "STREAMS",
    "TYPES",
    "HaulCosts",
    "PlanFigures",
    "PopulationData",
    "Stream",
    "TransportSolution",
    "WasteParameters",
    "WasteResult",
    "allocate_generation",
    "analyse_waste",
    "balance_table",
    "balance_value",
    "fill_scenarios",
    "format_plan_number",
    "landfill_life_table",
    "load_parameters",
    "network_costs",
    "plan_figures",
    "read_generation_file",
    "read_population",
    "route_dense_share",
    "route_residential_length",
    "siting_screens",
    "solve_transport",
    "straight_line_costs",
    "straight_line_label",
]
