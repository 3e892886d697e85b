"""What the waste analysis produced: the result, its layers and tables, and the key findings.

:class:`WasteResult` holds everything :func:`~jlp_geo.analysis.waste.analyse_waste` computed (nothing is
written here); :data:`COLUMNS_ZH` gives the Chinese headers of its tables and :func:`layer_from_rows`
builds its provenance layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from ...layers.common import finish_layer
from .balance import balance_value, fill_scenarios
from .figures import PlanFigures, format_plan_number
from .parameters import STREAMS, TYPES, WasteParameters

__all__ = ["COLUMNS_ZH", "WasteResult", "layer_from_rows"]


#: Chinese column headers of the waste tables (CSV/Excel).
COLUMNS_ZH: dict[str, str] = {
    "name_zh": "名称",
    "name_en": "英文名称",
    "source": "依据",
    "precision": "位置精度",
    "uncertainty_m": "位置不确定度（米）",
    "data_coverage_osm": "OSM数据覆盖比例 data coverage",
    "check_id": "编号",
    "stream": "类别编号",
    "stream_zh": "类别",
    "item_zh": "项目",
    "item_en": "项目（英文）",
    "value": "数值",
    "unit": "单位",
    "formula": "算式",
    "plan_value": "规划原值",
    "clauses": "条款",
    "status": "结论",
    "flag": "需关注",
    "note": "说明",
    "landfill": "填埋场",
    "fill_wm3": "填方量（万立方米）",
    "fill_clauses": "填方量条款",
    "scenario": "情景",
    "scenario_zh": "情景说明",
    "annual_wm3": "年填埋量（万立方米/年）",
    "years_until_full": "填满年限（年）",
    "full_in_year": "预计填满年份",
    "conflict": "规划数据不一致",
    "proxy": "分摊依据",
    "proxy_weight": "分摊权重",
    "share": "分摊比例",
    "spoil": "工程渣土（万立方米/年）",
    "slurry": "工程泥浆（万立方米/年）",
    "construction": "工程垃圾（万吨/年）",
    "demolition": "拆除垃圾（万吨/年）",
    "decoration": "装修垃圾（万吨/年）",
    "spoil_slurry": "渣土+泥浆（万立方米/年）",
    "construction_demolition": "工程+拆除垃圾（万吨/年）",
    "generation_basis": "产生量来源",
    "origin": "起点",
    "origin_kind": "起点类型",
    "facility_id": "设施编号",
    "facility_zh": "设施",
    "haul_km": "运距（公里）",
    "haul_pm_km": "运距不确定（±公里）",
    "method": "运距算法",
    "nearest": "最近设施（服务范围）",
    "robust": "服务范围判断稳健",
    "quantity": "运量（每年）",
    "quantity_unit": "运量单位",
    "cost": "运量×运距（每年）",
    "cost_unit": "运量×运距单位",
    "tonne_km": "吨公里（万吨·公里/年）",
    "tonne_km_basis": "吨公里换算",
    "route_km_residential": "途经居住用地（公里）",
    "route_share_residential": "途经居住用地比例",
    "route_share_dense": "途经高密度人口栅格比例",
    "capacity": "处理能力",
    "capacity_unit": "处理能力单位",
    "capacity_basis": "处理能力说明",
    "intake": "分配运量（每年）",
    "utilisation": "负荷率",
    "unserved": "未能分配",
    "allocated": "分配运量（每年）",
    "ambiguous": "服务范围不稳健的起点",
    "members": "服务镇街",
    "origin_uncertainty_m": "起点不确定度（米）",
    "mean_haul_km": "平均运距（公里）",
    "max_haul_km": "最大运距（公里）",
    "located": "已定位",
    "buffer_m": "缓冲距离（米）",
    "population": "人口",
    "population_method": "人口来源",
    "possible_radius_m": "含位置不确定的距离（米）",
    "n_origins": "服务起点数",
}


@dataclass
class WasteResult:
    """Everything the waste analysis computed (nothing written yet).

    Attributes
    ----------
    balance, landfill_life
        :func:`~jlp_geo.analysis.waste.balance_table`, :func:`~jlp_geo.analysis.waste.landfill_life_table`.
    generation
        镇街 in scope with generation per type (:func:`~jlp_geo.analysis.waste.allocate_generation`), EPSG:4490.
    facilities
        All plan facilities with ``located``, ``stream`` and the capacity used; EPSG:4490.
    haul
        Every origin × located facility per stream: ``haul_km``, ``haul_pm_km``, ``method``, ``nearest``, ``robust``.
    flows
        The optimal allocation as lines (EPSG:4490): quantity, cost, ton-km, route through residential land.
    catchments
        Nearest-facility service areas per stream (unions of 镇街), EPSG:4490.
    facility_load
        Per facility and stream: capacity, allocated intake, utilisation, cost, ton-km, haul distances.
    siting
        :func:`~jlp_geo.analysis.waste.siting_screens`.
    buffers
        Screening circles (EPSG:4490).
    receptors
        Sensitive receptors from OSM within the widest screen (EPSG:4490) or None.
    sites
        User construction sites with their catchment facility, or None.
    method
        ``haul`` (``network``/``straight_line``), ``haul_label``, ``proxy_label``, ``population``, ``osm``.
    notes
        Provenance and caveats, Chinese first.
    params, figures
        The parameters and plan figures used.
    """

    balance: pd.DataFrame
    landfill_life: pd.DataFrame
    generation: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    haul: pd.DataFrame
    flows: gpd.GeoDataFrame
    catchments: gpd.GeoDataFrame
    facility_load: pd.DataFrame
    siting: pd.DataFrame
    buffers: gpd.GeoDataFrame
    receptors: gpd.GeoDataFrame | None
    sites: gpd.GeoDataFrame | None
    method: dict[str, str]
    notes: list[str]
    params: WasteParameters
    figures: PlanFigures

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Layers of ``waste.gpkg``."""
        out = {
            "waste_facilities": self.facilities,
            "waste_generation": self.generation,
            "waste_catchments": self.catchments,
            "waste_flows": self.flows,
            "waste_buffers": self.buffers,
        }
        if self.receptors is not None:
            out["waste_receptors"] = self.receptors
        if self.sites is not None:
            out["waste_sites"] = self.sites
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        """Tables written as ``tables/<name>.csv``."""
        from ...io import table_from_layer

        gen = table_from_layer(self.generation).drop(columns=["has_geometry"], errors="ignore")
        keep = ["name_zh", "name_en", "proxy", "proxy_weight", "share", *TYPES, "spoil_slurry", "construction_demolition", "generation_basis", "source", "precision", "uncertainty_m"]
        return {
            "waste_balance": self.balance,
            "waste_landfill_life": self.landfill_life,
            "waste_generation": gen[[c for c in keep if c in gen.columns]],
            "waste_haul": self.haul,
            "waste_flows": pd.DataFrame(self.flows.drop(columns=self.flows.geometry.name)),
            "waste_facility_load": self.facility_load,
            "waste_siting": self.siting,
        }

    @property
    def rates(self) -> dict[str, float]:
        """Rates the plan's own figures imply, for the indicator report (percent).

        Only the 综合利用率 has a value the plan's figures determine: with all
        spoil and slurry landfilled (第八条（四）) it is the recovered solid waste over
        all waste (density parameter for the m³ part).  The 资源化利用率 cannot be
        computed: the plan states no current recovery, only a gap.
        """
        b = self.balance.set_index("check_id")
        if "tgt_comprehensive_if_landfilled" in b.index:
            return {"综合利用率 comprehensive (第八条（四）: all spoil/slurry landfilled)": float(b.loc["tgt_comprehensive_if_landfilled", "value"])}
        return {}

    def key_findings(self) -> list[str]:
        """The key findings in a few sentences (for the report, the CLI and the build notes)."""
        return _key_findings(self)


def _key_findings(r: WasteResult) -> list[str]:
    """The sentences of :meth:`WasteResult.key_findings`."""
    b = r.balance
    fig = r.figures
    out = []
    scen = fill_scenarios(fig)
    lives = [(name, total, balance_value(b, f"ss_years_total_{format_plan_number(total)}")) for name, total, _ in scen]
    landfilled = balance_value(b, "ss_landfilled")
    life_txt = "，".join(f"{format_plan_number(total)} 万立方米 → {years:.2f} 年" for _, total, years in lives)
    out.append(
        f"填埋场寿命：按第八条（四）每年 {format_plan_number(landfilled)} 万立方米全部进入填埋场，两座填埋场合计只够 {life_txt}"
        f"（{r.params.start_year} 年起算约 {r.params.start_year + lives[0][2]:.1f}–{r.params.start_year + lives[-1][2]:.1f} 年填满）；"
        f"锣鼓洞单独 {balance_value(b, 'ss_years_landfill_luogudong_400'):.2f} 年。"
        f" Landfill life: at the plan's 173.54 万m³/yr both landfills are full after {lives[0][2]:.2f}–{lives[-1][2]:.2f} years."
    )
    if len(lives) > 1:
        out.append(
            f"规划内部矛盾：岩洞湾填方量 312 万方（第十九条、附表4）与 326 万立方米（第二十七条（二））不一致，"
            f"差 14 万立方米，仅相当于 {balance_value(b, 'ss_conflict_effect'):.2f} 年（约 {balance_value(b, 'ss_conflict_effect') * 365:.0f} 天）的消纳量。"
            " Plan conflict 312 vs 326 flagged; it shifts the landfill life by about a month."
        )
    out.append(
        f"装修垃圾：产生 {format_plan_number(fig.generation['decoration'])} 万吨/年，华岩分选场 {format_plan_number(fig.capacity['sorting_huayan'])} 万吨/年，"
        f"余量 {balance_value(b, 'dec_balance'):.1f} 万吨/年（负荷率 {balance_value(b, 'dec_utilisation'):.1f}%）。"
    )
    out.append(
        f"工程垃圾+拆除垃圾 {format_plan_number(balance_value(b, 'cd_generation'))} 万吨/年；综合利用厂 {format_plan_number(fig.capacity['recycling_plant'])} 万吨/年 可覆盖规划所述缺口 "
        f"{format_plan_number(fig.processing['proc_recycling_gap'])} 万吨/年（余 {balance_value(b, 'cd_gap_cover'):.1f}），但不足以处理全部产生量（差 {-balance_value(b, 'cd_vs_generation'):.2f}）。"
        f"70%资源化利用率需 {balance_value(b, 'tgt_recovery_needed'):.2f} 万吨/年资源化，缺口 17.3 隐含约 {balance_value(b, 'tgt_implied_existing'):.1f} 万吨/年现有能力，规划未说明来源。"
    )
    out.append(
        f"目标矛盾：第八条（四）的渣土泥浆全部填埋时综合利用率仅约 {balance_value(b, 'tgt_comprehensive_if_landfilled'):.1f}%（无论密度取值都低于70%），"
        f"达不到附表1的73%；要达到73%，每年约 {balance_value(b, 'tgt_ss_use_needed'):.1f} 万立方米渣土泥浆须回填或利用，"
        f"填埋量降至 {balance_value(b, 'tgt_ss_landfilled_at_73'):.1f} 万立方米/年，填埋场寿命延长到约 "
        + "–".join(f"{balance_value(b, f'tgt_years_at_73_{format_plan_number(total)}'):.1f}" for _, total, _ in scen) + " 年。"
    )
    load = r.facility_load
    placed = load[load["located"].astype(bool)]
    unplaced = load[~load["located"].astype(bool)]
    if len(placed):
        parts = []
        for _, row in placed.iterrows():
            parts.append(f"{row['facility_zh']} {row['mean_haul_km']:.1f} 公里（±{row['haul_pm_km']:.1f}）")
        out.append(
            f"运距（{r.method['haul_label']}）：平均运距 " + "；".join(parts)
            + "。总运量×运距：" + "；".join(
                f"{s.name_zh} {r.flows.loc[r.flows['stream'] == s.id, 'cost'].sum():.0f} {s.cost_unit}"
                for s in STREAMS if (r.flows["stream"] == s.id).any()
            ) + "。"
        )
    if len(unplaced):
        out.append(
            "未定位设施不参加运距分析：" + "、".join(sorted(set(unplaced["facility_zh"])))
            + "（规划仅写“西部片区”或无地址，不编造场址）；工程垃圾、拆除垃圾的运距和服务范围因此无法计算。"
        )
    s = r.siting
    if len(s):
        big = s[s["buffer_m"] == s["buffer_m"].max()]
        if "n_school" in big.columns and big["n_school"].notna().any():
            def count(row: pd.Series, rid: str) -> str:
                v = row.get(f"n_{rid}")
                return "无数据 no data" if v is None or pd.isna(v) else f"{int(v)}"

            txt = "；".join(
                f"{row['name_zh']} {int(row['buffer_m'])} 米内 学校 {count(row, 'school')}、医院 {count(row, 'hospital')}、居住用地 {count(row, 'residential')} 处"
                for _, row in big.iterrows()
            )
            out.append(f"邻避筛查（第四条（五），设施为估计点，仅供筛查）：{txt}。")
        elif "n_school" in big.columns and big.get("data_coverage_osm", pd.Series(dtype=float)).notna().any():
            out.append("邻避筛查：OSM 数据未覆盖设施周边，敏感目标数量为 无数据 no data（第四条（五））— the OSM extract does not reach the facilities.")
        else:
            out.append("邻避筛查：没有OSM数据，敏感目标未评估（第四条（五））；给出 --osm 可计算。")
    return out


def layer_from_rows(rows: list[dict[str, Any]], geoms: list[Any], crs: Any, name: str) -> gpd.GeoDataFrame:
    """A provenance layer from rows, also when there are none.

    Parameters
    ----------
    rows
        One mapping per feature (with the provenance columns ``name_zh, name_en, source, precision,
        uncertainty_m``).
    geoms
        One geometry per row.
    crs
        CRS of *geoms*.
    name
        Layer name (``waste_flows``, ``waste_catchments``, ``waste_buffers``).

    Returns
    -------
    GeoDataFrame
        The finished layer (:func:`jlp_geo.layers.common.finish_layer`); with no rows, an empty layer that
        still has the provenance, ``stream`` and ``facility_id`` columns.
    """
    if rows:
        return finish_layer(rows, geometry=geoms, crs=crs, layer=name)
    return finish_layer(pd.DataFrame(columns=["name_zh", "name_en", "source", "precision", "uncertainty_m", "stream", "facility_id"]),
                        geometry=[], crs=crs, layer=name)
