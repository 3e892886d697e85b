"""规划指标: the plan's measurable spatial targets, computed per 镇街 and 组团.

The indicators, their targets (with the plan's own words and clause), default
parameters and caveats are data, in ``layers/indicators.yml``; this package
computes them from what the project already has, one module per indicator family
(:mod:`.parks`, :mod:`.life_circle`, :mod:`.rail`, :mod:`.waste`; the funnel is
:func:`analyse_indicators` in :mod:`.analyse`):

==========================  =================================================  ==========================
indicator                   computed from                                      without the data
==========================  =================================================  ==========================
公园绿化活动场地服务半径覆盖率  coverage result (walk network, OSM parks,          "not computed: no OSM data"
                            population) — network and straight-line distance;
                            OSM residential land for the area basis
15分钟高品质生活服务圈        coverage result: every category, both rules,        same
                            all basic categories together; ranking; worst
                            H3 cells; walk-time distribution
15分钟健身圈, 一老一小        coverage result (sports/fitness; elderly care,      same
                            childcare, kindergarten)
轨道通车里程                 OSM rail ways and route relations clipped to the   station-chord lower bound
                            district, measured in the analysis CRS             (layers/metro_km_in_jiulongpo.csv)
轨道站点800米覆盖人口         coverage nodes + stations                           not computed
建筑垃圾 70% / 73% / 年限     the construction-waste analysis (``waste``)        not computed, with the reason
人均公园绿地, 路网密度,       OSM parks / roads / urban land use / shelters      not computed, with the reason
人均避难面积, 建筑垃圾80%     (:mod:`.plan_targets`), the waste balance
other plan targets          ``parameters.kind: not_computable``                 listed with the reason
==========================  =================================================  ==========================

Everything is returned as one long table (:data:`INDICATOR_COLUMNS`): one row
per indicator × measure × unit (全域 / 组团 / 镇街) with value, target, gap,
status, data source and date, method and caveats.  A value that cannot be
computed is NaN with status ``未计算 not computed`` and the reason -- never a
zero.

Shares are population-weighted with the coverage result's weights (people per
node from a raster or census, or one per node when no population was given:
then they are shares of walk-network nodes, and the ``population_basis``
column says so).
"""

from .analyse import analyse_indicators
from .definitions import (
    HEADERS_ZH,
    INDICATOR_COLUMNS,
    LEVEL_CLUSTER,
    LEVEL_TOWNSHIP,
    LEVEL_WHOLE,
    WHOLE_AREA,
    IndicatorDef,
    Target,
    load_indicator_definitions,
)
from .parks import park_service_coverage
from .rail import RailLength, rail_route_length
from .table import IndicatorResult

__all__ = [
    "HEADERS_ZH",
    "INDICATOR_COLUMNS",
    "LEVEL_CLUSTER",
    "LEVEL_TOWNSHIP",
    "LEVEL_WHOLE",
    "WHOLE_AREA",
    "IndicatorDef",
    "IndicatorResult",
    "RailLength",
    "Target",
    "analyse_indicators",
    "load_indicator_definitions",
    "park_service_coverage",
    "rail_route_length",
]
