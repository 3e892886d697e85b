"""Does the plan balance: the 产消平衡 of the 建筑垃圾规划 and the life of its two landfills.

:func:`balance_table` recomputes every figure and check from the plan's own numbers with the arithmetic
written out (units as the plan gives them; the one conversion, where the plan itself mixes 万吨 and
万立方米, uses the stated density and says so).  :func:`landfill_life_table` gives the years until full
per landfill, fill value and absorption scenario; the 岩洞湾 conflict (312 vs 326 万立方米) is kept and
computed both ways (:func:`fill_scenarios`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ...config import Profile, load_profile
from .figures import PlanFigures, format_plan_number, plan_figures
from .parameters import STREAM_BY_ID, STREAMS, WasteParameters, load_parameters

__all__ = ["balance_table", "balance_value", "fill_scenarios", "landfill_life_table"]


#: Chinese label of the ``stream`` column of the balance (the streams and the 附表1 targets).
_STREAM_ZH = {s.id: s.name_zh for s in STREAMS} | {"targets": "规划指标 附表1"}


def _comprehensive_needs(fig: PlanFigures, density: float) -> dict[str, float]:
    """What the 70 % and 73 % targets imply, for a spoil/slurry density (t/m³)."""
    solid = fig.generation["construction"] + fig.generation["demolition"] + fig.generation["decoration"]
    ss = fig.generation["spoil"] + fig.generation["slurry"]
    r70 = fig.targets["Resource-recovery rate"] / 100.0
    r73 = fig.targets["Comprehensive utilisation rate"] / 100.0
    recovered = r70 * solid
    total_t = solid + ss * density
    need_ss_wm3 = (r73 * total_t - recovered) / density  # spoil/slurry backfilled or used, 万立方米/年
    return {
        "solid": solid, "ss": ss, "r70": r70, "r73": r73, "recovered": recovered, "total_t": total_t,
        "rate_if_all_landfilled": recovered / total_t,
        "need_ss_wm3": need_ss_wm3, "need_ss_share": need_ss_wm3 / ss, "landfilled_ss_wm3": ss - need_ss_wm3,
    }


def balance_table(profile: Profile | None = None, params: WasteParameters | None = None) -> pd.DataFrame:
    """The capacity balance (产消平衡) of the 建筑垃圾规划, with the arithmetic written out.

    Every value is computed from the plan's figures (``layers/waste_plan_*.csv``); where the plan states
    the same quantity itself (``plan_value``), ``status`` says whether the arithmetic reproduces it.

    Parameters
    ----------
    profile
        Study-area profile (document citation).
    params
        Stated parameters (landfilled share, density for the rows that need one).

    Returns
    -------
    DataFrame
        Columns ``check_id, stream, stream_zh, item_zh, item_en, value, unit, formula, plan_value,
        clauses, status, flag, note, source``.  ``flag`` marks what needs the office's attention (the
        岩洞湾 conflict, capacity shortfalls, targets the plan's own figures cannot meet).
    """
    profile = profile or load_profile()
    params = params or load_parameters()
    fig = plan_figures(profile)
    g, pr = fig.generation, fig.processing
    doc = fig.document
    rows: list[dict[str, Any]] = []

    def add(check_id, stream, item_zh, item_en, value, unit, formula, clauses, status="", flag=False, note="", plan_value=np.nan):
        rows.append(
            {
                "check_id": check_id, "stream": stream, "stream_zh": _STREAM_ZH.get(stream, stream), "item_zh": item_zh,
                "item_en": item_en, "value": float(value), "unit": unit, "formula": formula, "plan_value": plan_value,
                "clauses": clauses, "status": status, "flag": bool(flag), "note": note, "source": f"{doc} {clauses}",
            }
        )

    def same(a: float, b: float, tol: float = 0.005) -> bool:
        return abs(a - b) <= tol

    # ---- 工程渣土 + 工程泥浆 (万立方米)
    ss = g["spoil"] + g["slurry"]
    add("ss_generation", "spoil_slurry", "工程渣土+工程泥浆产生量", "Spoil + slurry generated", ss, "万立方米/年",
        f"{format_plan_number(g['spoil'])} + {format_plan_number(g['slurry'])}", f"{fig.generation_clause['spoil']}、{fig.generation_clause['slurry']}",
        status="与规划一致 equals plan" if same(ss, pr["proc_spoil_slurry"]) else "与规划不一致 differs from plan",
        flag=not same(ss, pr["proc_spoil_slurry"]), plan_value=pr["proc_spoil_slurry"],
        note=f"第八条（四）需消纳量 {format_plan_number(pr['proc_spoil_slurry'])} 万立方米/年 = 全部产生量：规划未扣除就地回填（第十七条（二）（三）优先就地回填）"
        " — the absorption equals the whole generation: no on-site backfill is deducted")
    landfilled = pr["proc_spoil_slurry"] * params.landfilled_share
    add("ss_landfilled", "spoil_slurry", "进入填埋场的渣土泥浆量", "Spoil/slurry to landfills", landfilled, "万立方米/年",
        f"{format_plan_number(pr['proc_spoil_slurry'])} × {format_plan_number(params.landfilled_share)}（填埋比例 landfilled share）", fig.processing_clause["proc_spoil_slurry"],
        status="参数 parameter", note="landfilled_share = 1 reproduces 第八条（四）(填埋场处理量); lower it for on-site backfill (layers/waste_parameters.yml)")
    landfills = [fid for fid in STREAM_BY_ID["spoil_slurry"].facilities if fid in fig.fill]
    scenarios = fill_scenarios(fig)
    for fid in landfills:
        values = fig.fill[fid]
        conflict = len(values) > 1
        for v, clauses in values:
            add(f"ss_fill_{fid}_{format_plan_number(v)}", "spoil_slurry", f"{fig.names[fid]} 填方量", f"Fill volume, {fid}", v, "万立方米", format_plan_number(v), clauses,
                status="规划内部矛盾 plan conflict" if conflict else "规划值 plan figure", flag=conflict,
                note=("；".join(f"{format_plan_number(x)} 万立方米（{c}）" for x, c in values) + " — 两值并存，分别计算 both values kept and computed") if conflict else "")
    for name, total, parts in scenarios:
        add(f"ss_fill_total_{format_plan_number(total)}", "spoil_slurry", f"两座填埋场总填方量（{name}）", f"Total fill volume ({name})", total, "万立方米",
            " + ".join(format_plan_number(p) for p in parts), "第十九条、第二十七条（二）、附表4", status="计算 computed", flag=len(scenarios) > 1,
            note="岩洞湾填方量规划内部不一致 (312 vs 326)" if len(scenarios) > 1 else "")
    if landfilled > 0:
        for fid in landfills:
            for v, clauses in fig.fill[fid]:
                add(f"ss_years_{fid}_{format_plan_number(v)}", "spoil_slurry", f"{fig.names[fid]} 单独消纳的填满年限（填方量 {format_plan_number(v)}）",
                    f"Years until full, {fid} alone ({format_plan_number(v)})", v / landfilled, "年", f"{format_plan_number(v)} ÷ {format_plan_number(landfilled)}", clauses,
                    status="计算 computed", flag=len(fig.fill[fid]) > 1)
        lives = []
        for name, total, _ in scenarios:
            years = total / landfilled
            lives.append(years)
            add(f"ss_years_total_{format_plan_number(total)}", "spoil_slurry", f"两座填埋场合计填满年限（{name}）", f"Years until both are full ({name})",
                years, "年", f"{format_plan_number(total)} ÷ {format_plan_number(landfilled)}", "第八条（四）、第十九条、第二十七条（二）、附表4",
                status="计算 computed", flag=len(scenarios) > 1,
                note=f"按 {params.start_year} 年起算约 {params.start_year + years:.1f} 年填满 (from {params.start_year})")
        if len(lives) > 1:
            diff = scenarios[1][1] - scenarios[0][1]
            add("ss_conflict_effect", "spoil_slurry", "岩洞湾两个填方量的差别对应的年限", "Life difference of the 312/326 conflict",
                diff / landfilled, "年", f"({format_plan_number(scenarios[1][1])} − {format_plan_number(scenarios[0][1])}) ÷ {format_plan_number(landfilled)}",
                "第十九条、第二十七条（二）、附表4", status="规划内部矛盾 plan conflict", flag=True,
                note=f"{format_plan_number(diff)} 万立方米 ≈ {diff / landfilled * 365:.0f} 天 days of absorption")

    # ---- 装修垃圾 (万吨)
    dec, cap_dec = g["decoration"], fig.capacity["sorting_huayan"]
    add("dec_generation", "decoration", "装修垃圾产生量", "Decoration waste generated", dec, "万吨/年", format_plan_number(dec), fig.generation_clause["decoration"],
        status="规划值 plan figure")
    add("dec_gap", "decoration", "装修垃圾分选能力缺口", "Sorting capacity gap (stated)", pr["proc_sorting_gap"], "万吨/年", format_plan_number(pr["proc_sorting_gap"]),
        fig.processing_clause["proc_sorting_gap"], plan_value=pr["proc_sorting_gap"],
        status="等于全部产生量 equals generation" if same(pr["proc_sorting_gap"], dec) else "小于产生量 below generation",
        note="缺口 = 产生量：现状无分选能力 (the stated gap equals the whole generation: no sorting capacity today)" if same(pr["proc_sorting_gap"], dec) else "")
    add("dec_capacity", "decoration", "华岩装修垃圾分选场处理规模", "Huayan sorting plant capacity", cap_dec, "万吨/年", format_plan_number(cap_dec),
        fig.capacity_clauses["sorting_huayan"], status="规划值 plan figure")
    surplus = cap_dec - dec
    add("dec_balance", "decoration", "分选能力余量（处理规模 − 产生量）", "Sorting surplus (capacity − generation)", surplus, "万吨/年",
        f"{format_plan_number(cap_dec)} − {format_plan_number(dec)}", f"{fig.capacity_clauses['sorting_huayan']}、{fig.generation_clause['decoration']}",
        status="能力有余 surplus" if surplus >= 0 else "能力不足 shortfall", flag=surplus < 0)
    add("dec_utilisation", "decoration", "分选场负荷率", "Sorting plant utilisation", 100 * dec / cap_dec, "%", f"{format_plan_number(dec)} ÷ {format_plan_number(cap_dec)} × 100",
        f"{fig.capacity_clauses['sorting_huayan']}、{fig.generation_clause['decoration']}", status="计算 computed")

    # ---- 工程垃圾 + 拆除垃圾 (万吨)
    cd = g["construction"] + g["demolition"]
    cap_rec = fig.capacity["recycling_plant"]
    add("cd_generation", "construction_demolition", "工程垃圾+拆除垃圾产生量", "Construction + demolition waste generated", cd, "万吨/年",
        f"{format_plan_number(g['construction'])} + {format_plan_number(g['demolition'])}", f"{fig.generation_clause['construction']}、{fig.generation_clause['demolition']}",
        status="计算 computed")
    add("cd_gap", "construction_demolition", "建筑垃圾资源化利用量缺口", "Recycling gap (stated)", pr["proc_recycling_gap"], "万吨/年",
        format_plan_number(pr["proc_recycling_gap"]), fig.processing_clause["proc_recycling_gap"], plan_value=pr["proc_recycling_gap"], status="规划值 plan figure")
    add("cd_capacity", "construction_demolition", "建筑垃圾综合利用厂处理规模", "Recycling plant capacity", cap_rec, "万吨/年", format_plan_number(cap_rec),
        fig.capacity_clauses["recycling_plant"], status="规划值 plan figure",
        note="重庆新启基地（第十六条（一））未给出规模 (the 新启 base has no stated capacity)")
    add("cd_gap_cover", "construction_demolition", "综合利用厂覆盖缺口后的余量", "Plant capacity − stated gap", cap_rec - pr["proc_recycling_gap"],
        "万吨/年", f"{format_plan_number(cap_rec)} − {format_plan_number(pr['proc_recycling_gap'])}",
        f"{fig.capacity_clauses['recycling_plant']}、{fig.processing_clause['proc_recycling_gap']}",
        status="可覆盖缺口 covers the gap" if cap_rec >= pr["proc_recycling_gap"] else "不能覆盖缺口 does not cover the gap",
        flag=cap_rec < pr["proc_recycling_gap"])
    add("cd_vs_generation", "construction_demolition", "综合利用厂处理规模 − 工程+拆除垃圾产生量", "Plant capacity − C&D generation", cap_rec - cd,
        "万吨/年", f"{format_plan_number(cap_rec)} − {format_plan_number(cd)}", f"{fig.capacity_clauses['recycling_plant']}、第七条（三）（四）",
        status="能力有余 surplus" if cap_rec >= cd else "单厂不足 plant alone short", flag=cap_rec < cd,
        note="其余须由新启基地、现场资源化或填埋消纳 (the rest must go to the 新启 base, on-site recycling or landfill)" if cap_rec < cd else "")

    # ---- 附表1 targets
    cn = _comprehensive_needs(fig, params.density_t_per_m3)
    solid = cn["solid"]
    tclause = fig.target_clause
    add("tgt_solid_total", "targets", "工程+拆除+装修垃圾总量", "Construction + demolition + decoration", solid, "万吨/年",
        f"{format_plan_number(g['construction'])} + {format_plan_number(g['demolition'])} + {format_plan_number(g['decoration'])}", "第七条（三）（四）（五）", status="计算 computed")
    add("tgt_recovery_needed", "targets", "资源化利用率70%所需资源化量", "Recovery needed for the 70 % target", cn["recovered"], "万吨/年",
        f"{format_plan_number(cn['r70'] * 100)}% × {format_plan_number(solid)}", tclause, status="计算 computed")
    add("tgt_landfill_solid", "targets", "资源化后剩余（填埋）量", "Remainder to landfill (30 %)", (1 - cn["r70"]) * solid, "万吨/年",
        f"(1 − {format_plan_number(cn['r70'])}) × {format_plan_number(solid)}", f"{tclause}; {fig.processing_clause['proc_landfill_solid']}",
        plan_value=pr["proc_landfill_solid"],
        status="与规划一致 equals plan" if same((1 - cn["r70"]) * solid, pr["proc_landfill_solid"]) else "与规划不一致 differs from plan",
        flag=not same((1 - cn["r70"]) * solid, pr["proc_landfill_solid"]),
        note="第八条（三）填埋场处理量 20.27 = 30% × 67.57：规划的填埋量正好是70%目标的余量")
    implied = cn["recovered"] - pr["proc_recycling_gap"]
    add("tgt_implied_existing", "targets", "缺口隐含的现有（或其他）资源化能力", "Recovery capacity implied by the stated gap", implied, "万吨/年",
        f"{format_plan_number(cn['recovered'])} − {format_plan_number(pr['proc_recycling_gap'])}", f"{tclause}; {fig.processing_clause['proc_recycling_gap']}",
        status="推算 inferred (not stated)", flag=True,
        note="规划未说明这约30万吨/年资源化能力从何而来（可能含新启基地）— the plan does not say where ≈30 万吨/年 of recovery comes from")
    add("tgt_planned_recovery", "targets", "规划新增资源化能力 − 70%目标所需资源化量", "Planned recovery capacity − recovery needed", cap_rec - cn["recovered"],
        "万吨/年", f"{format_plan_number(cap_rec)} − {format_plan_number(cn['recovered'])}", f"{fig.capacity_clauses['recycling_plant']}; {tclause}",
        status="仅靠新厂不足 short without the implied capacity" if cap_rec < cn["recovered"] else "能力有余 surplus",
        flag=cap_rec < cn["recovered"], note="分选场(35万吨/年)为分选，不计为资源化 (sorting is not counted as recovery)")
    rho = params.density_t_per_m3
    add("tgt_comprehensive_if_landfilled", "targets", "渣土泥浆全部填埋时的综合利用率", "Comprehensive rate if all spoil/slurry is landfilled",
        100 * cn["rate_if_all_landfilled"], "%", f"{format_plan_number(cn['recovered'])} ÷ ({format_plan_number(solid)} + {format_plan_number(cn['ss'])} × {format_plan_number(rho)}) × 100",
        f"{tclause}; 第八条（四）", status="达不到73% target not met", flag=True,
        note=f"密度 {format_plan_number(rho)} 吨/立方米（参数，非规划值）；与密度无关：只要渣土泥浆全部填埋，综合利用率 < 70% < 73% "
        "(whatever the density, it stays below 70 %)")
    add("tgt_ss_use_needed", "targets", "达到73%需回填/利用的渣土泥浆量", "Spoil/slurry to backfill or use for 73 %", cn["need_ss_wm3"], "万立方米/年",
        f"({format_plan_number(cn['r73'])} × ({format_plan_number(solid)} + {format_plan_number(cn['ss'])} × {format_plan_number(rho)}) − {format_plan_number(cn['recovered'])}) ÷ {format_plan_number(rho)}",
        f"{tclause}; 第七条", status="推算 inferred (density parameter)", flag=True,
        note=f"= {100 * cn['need_ss_share']:.1f}% 的渣土泥浆；密度 {params.density_range[0]}–{params.density_range[1]} 吨/立方米时为 "
        + "–".join(format_plan_number(_comprehensive_needs(fig, d)["need_ss_wm3"], 2) for d in params.density_range) + " 万立方米/年")
    add("tgt_ss_landfilled_at_73", "targets", "达到73%时进入填埋场的渣土泥浆量", "Spoil/slurry landfilled at 73 %", cn["landfilled_ss_wm3"], "万立方米/年",
        f"{format_plan_number(cn['ss'])} − {format_plan_number(cn['need_ss_wm3'])}", f"{tclause}; 第七条", status="推算 inferred (density parameter)",
        note="与第八条（四）的173.54万立方米/年填埋量矛盾 (inconsistent with 第八条（四）)")
    if cn["landfilled_ss_wm3"] > 0:
        for name, total, _ in scenarios:
            add(f"tgt_years_at_73_{format_plan_number(total)}", "targets", f"达到73%时两座填埋场填满年限（{name}）", f"Years until full at 73 % ({name})",
                total / cn["landfilled_ss_wm3"], "年", f"{format_plan_number(total)} ÷ {format_plan_number(cn['landfilled_ss_wm3'])}", f"{tclause}; 第十九条、第二十七条（二）",
                status="推算 inferred (density parameter)")
    return pd.DataFrame(rows)


def fill_scenarios(fig: PlanFigures) -> list[tuple[str, float, list[float]]]:
    """Total fill of the two landfills under each combination of the plan's values.

    Parameters
    ----------
    fig
        The plan's figures (:func:`~jlp_geo.analysis.waste.figures.plan_figures`).

    Returns
    -------
    list of tuple
        ``(label, total 万立方米, [fill per landfill])``, smallest total first; one entry per combination
        (two while 岩洞湾 has both 312 and 326).
    """
    landfills = [fid for fid in STREAM_BY_ID["spoil_slurry"].facilities if fid in fig.fill]
    combos: list[list[float]] = [[]]
    for fid in landfills:
        combos = [c + [v] for c in combos for v in fig.fill_values(fid)]
    out = []
    for parts in combos:
        label = "岩洞湾 " + format_plan_number(parts[landfills.index("landfill_yandongwan")]) if "landfill_yandongwan" in landfills else "plan"
        out.append((label, float(sum(parts)), parts))
    return sorted(out, key=lambda t: t[1])


def landfill_life_table(profile: Profile | None = None, params: WasteParameters | None = None) -> pd.DataFrame:
    """Years until full = fill volume ÷ annual landfilled volume, per landfill and fill value.

    Two absorption scenarios:

    * ``plan`` -- 第八条（四）: 173.54 万立方米/年 × ``landfilled_share`` (1.0 = the plan's arithmetic);
    * ``target73`` -- what reaches the landfills if the 73 % 综合利用率 of 附表1 is met with the 70 %
      资源化利用率 on the other types (uses the stated density; see :func:`balance_table`).

    Parameters
    ----------
    profile
        Study-area profile (document citation).
    params
        Stated parameters (landfilled share, density, start year).

    Returns
    -------
    DataFrame
        Columns ``landfill, fill_wm3, fill_clauses, conflict, scenario, scenario_zh, annual_wm3,
        years_until_full, full_in_year, note``.
    """
    profile = profile or load_profile()
    params = params or load_parameters()
    fig = plan_figures(profile)
    cn = _comprehensive_needs(fig, params.density_t_per_m3)
    absorption = {
        "plan": (fig.processing["proc_spoil_slurry"] * params.landfilled_share,
                 f"第八条（四）需消纳量 × 填埋比例 {format_plan_number(params.landfilled_share)}"),
        "target73": (cn["landfilled_ss_wm3"], f"达到附表1综合利用率73%时的填埋量（密度 {format_plan_number(params.density_t_per_m3)} 吨/立方米，参数）"),
    }
    rows = []
    units: list[tuple[str, float, str, bool]] = []
    for fid in STREAM_BY_ID["spoil_slurry"].facilities:
        vals = fig.fill.get(fid, [])
        for v, c in vals:
            units.append((fig.names[fid], v, c, len(vals) > 1))
    for name, total, parts in fill_scenarios(fig):
        units.append((f"两座合计（{name}）", total, " + ".join(format_plan_number(p) for p in parts), len(fill_scenarios(fig)) > 1))
    for scen, (annual, label) in absorption.items():
        for landfill, fill, clauses, conflict in units:
            years = fill / annual if annual > 0 else np.inf
            rows.append(
                {
                    "landfill": landfill, "fill_wm3": fill, "fill_clauses": clauses, "conflict": conflict, "scenario": scen,
                    "scenario_zh": label, "annual_wm3": annual, "years_until_full": years,
                    "full_in_year": params.start_year + years if math.isfinite(years) else np.nan,
                    "note": "单座填埋场独自消纳全部渣土泥浆 (one landfill alone takes all)" if "合计" not in landfill else "",
                }
            )
    return pd.DataFrame(rows)


def balance_value(balance: pd.DataFrame, check_id: str) -> float:
    """The value of one row of :func:`balance_table`.

    Parameters
    ----------
    balance
        The balance table.
    check_id
        The row's ``check_id`` (e.g. ``ss_landfilled``).

    Returns
    -------
    float
        The value, or NaN when the table has no such row.
    """
    hit = balance.loc[balance["check_id"] == check_id, "value"]
    return float(hit.iloc[0]) if len(hit) else float("nan")
