"""Headline facts of the report (pure): summary page, removals and deduction, stock estimates.

Reads ``summary.json``'s blocks defensively (``.get``): a missing field shows as a dash. Stock
totals are shown in t CO2e; a block that only carries t C is converted by 44/12
(``mrv.units.CO2_PER_C``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mrv.units import CO2_PER_C
from pipelines.report import fmt
from pipelines.report.labels import rule_label

Json = Mapping[str, Any]


@dataclass(frozen=True)
class Fact:
    """One labelled value; ``flag`` draws attention to it (e.g. unconfirmed parameters)."""

    zh: str
    en: str
    value: str
    unit: str = ""
    flag: bool = False
    note: str = ""
    badge: str = ""
    """Short bilingual marker shown next to the value (e.g. ``未确认 unconfirmed``)."""


UNCONFIRMED = "未确认 unconfirmed"


def block(data: Json, key: str) -> Json:
    """``data[key]`` if it is a mapping, else an empty mapping."""
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def code_version_text(run: Json) -> str:
    """``huzhou-mrv 0.1.0 (git 1a2b3c4d, modified)`` from run.json's ``code_version``."""
    cv = block(run, "code_version")
    if not cv:
        return fmt.MISSING
    text = f"{cv.get('package', '')} {cv.get('version', '')}".strip()
    commit = cv.get("git_commit")
    if commit:
        text += f" (git {str(commit)[:10]}{', 未提交修改 modified' if cv.get('git_dirty') else ''})"
    return text


def summary_facts(summary: Json, run: Json, run_date: str) -> list[Fact]:
    """The summary page's list: campaign, site, period, methodology, parcels, who and when."""
    camp, meth, site = (
        block(summary, "campaign"),
        block(summary, "methodology"),
        block(summary, "site"),
    )
    unconfirmed = list(summary.get("unconfirmed_parameters") or [])
    period = f"{camp.get('period_start', fmt.MISSING)} – {camp.get('period_end', fmt.MISSING)}"
    years = fmt.as_float(camp.get("period_years"))
    if years is not None:
        period += f" ({fmt.num(years, 2)} 年 yr)"
    area_ha, area_mu = site.get("parcels_area_ha"), site.get("parcels_area_mu")
    parcels_area = (
        f"{fmt.integer(site.get('parcels_n'))} 块 parcels, "
        f"{fmt.num(area_ha, 2)} ha ({fmt.num(area_mu, 1)} 亩 mu)"
    )
    return [
        Fact("监测活动", "Campaign", str(camp.get("id", fmt.MISSING))),
        Fact("项目地", "Site", str(site.get("name") or camp.get("site") or fmt.MISSING)),
        Fact("监测期", "Monitoring period", period),
        Fact(
            "方法学",
            "Methodology",
            f"{meth.get('id', fmt.MISSING)} v{meth.get('version', '?')}",
            note=" / ".join(str(t) for t in (meth.get("title_zh"), meth.get("title")) if t),
        ),
        Fact("边界面积", "Boundary area", fmt.num(site.get("boundary_area_ha"), 2), "ha"),
        Fact("地块", "Parcels", parcels_area),
        Fact("测量方", "Measurer", str(camp.get("measurer") or fmt.MISSING)),
        Fact("运行日期", "Run date", run_date),
        Fact("代码版本", "Code version", code_version_text(run)),
        Fact(
            "未确认参数",
            "Unconfirmed parameters",
            str(len(unconfirmed)),
            flag=bool(unconfirmed),
            badge=UNCONFIRMED if unconfirmed else "",
            note="见第 6 节 see section 6" if unconfirmed else "",
        ),
    ]


def removals_facts(summary: Json) -> list[Fact]:
    """The headline: removals with 90 % CI, relative half-width, deduction, conservative, claim."""
    rem = block(summary, "removals")
    ded = block(rem, "uncertainty_deduction")
    rule = rule_label(str(ded.get("rule", "")))
    return [
        Fact("净清除量", "Net removals", fmt.num(rem.get("removals_tco2e")), "t CO2e"),
        Fact(
            "90% 置信区间",
            "90 % confidence interval",
            fmt.interval(rem.get("ci90_low_tco2e"), rem.get("ci90_high_tco2e")),
            "t CO2e",
        ),
        Fact("相对不确定性", "Relative uncertainty (90 %)", fmt.pct(rem.get("ci90_relative"))),
        Fact(
            "不确定性扣减",
            "Uncertainty deduction",
            fmt.num(ded.get("deduction")),
            "t CO2e",
            note=f"{fmt.pct(ded.get('deduction_fraction'))}, {rule}",
        ),
        Fact(
            "保守清除量",
            "Conservative removals",
            fmt.num(rem.get("conservative_removals_tco2e")),
            "t CO2e",
        ),
        Fact("可签发量", "Claimable", fmt.integer(rem.get("claimable_tco2e")), "t CO2e"),
    ]


def deduction_facts(summary: Json) -> list[Fact]:
    """Uncertainty and deduction: the removals equation term by term and the rule applied."""
    rem = block(summary, "removals")
    ded = block(rem, "uncertainty_deduction")
    basis = {"sampling": "抽样 sampling", "monte_carlo": "蒙特卡罗 Monte Carlo"}
    confirmed = ded.get("rule_confirmed")
    return [
        Fact("监测期", "Period", fmt.num(rem.get("period_years"), 2), "yr"),
        Fact(
            "碳储量变化",
            "Stock change",
            fmt.plus_minus(rem.get("stock_change_tco2e"), rem.get("ci90_half_width_tco2e")),
            "t CO2e",
        ),
        Fact("项目排放", "Project emissions", fmt.num(rem.get("emissions_tco2e")), "t CO2e"),
        Fact("泄漏", "Leakage", fmt.num(rem.get("leakage_tco2e")), "t CO2e"),
        Fact(
            "净清除量",
            "Net removals = change − emissions − leakage",
            fmt.num(rem.get("removals_tco2e")),
            "t CO2e",
        ),
        Fact(
            "90% 置信区间半宽",
            "90 % CI half-width",
            fmt.num(rem.get("ci90_half_width_tco2e")),
            "t CO2e",
            note=basis.get(str(rem.get("ci90_basis")), str(rem.get("ci90_basis") or "")),
        ),
        Fact(
            "相对半宽",
            "Relative half-width",
            fmt.pct(ded.get("relative_half_width", rem.get("ci90_relative"))),
        ),
        Fact(
            "扣减规则",
            "Deduction rule",
            str(rule_label(str(ded.get("rule", fmt.MISSING)))),
            flag=confirmed is False,
            badge=UNCONFIRMED if confirmed is False else "",
            note="规则未经原文确认 rule not confirmed in its primary text"
            if confirmed is False
            else "",
        ),
        Fact("扣减比例", "Deduction fraction", fmt.pct(ded.get("deduction_fraction"))),
        Fact("扣减量", "Deduction", fmt.num(ded.get("deduction")), "t CO2e"),
        Fact(
            "保守清除量",
            "Conservative removals",
            fmt.num(rem.get("conservative_removals_tco2e")),
            "t CO2e",
        ),
        Fact(
            "可签发量（取整）",
            "Claimable (whole tonnes, floor)",
            fmt.integer(rem.get("claimable_tco2e")),
            "t CO2e",
        ),
    ]


def stock_co2e(est: Json) -> tuple[float | None, float | None]:
    """(total, 90 % CI half-width) in t CO2e of a stock estimate block (t CO2e or t C keys)."""
    total = fmt.as_float(est.get("total_co2e_t", est.get("co2e_t")))
    hw = fmt.as_float(est.get("ci90_half_width_co2e_t"))
    if total is None and (tc := fmt.as_float(est.get("total_tc"))) is not None:
        total = tc * CO2_PER_C
    if hw is None:
        lo, hi = fmt.as_float(est.get("ci90_low_tc")), fmt.as_float(est.get("ci90_high_tc"))
        if lo is not None and hi is not None:
            hw = (hi - lo) / 2 * CO2_PER_C
    return total, hw


def stock_facts(summary: Json) -> list[Fact]:
    """Stock at the later survey: the survey's own estimate (if given), plots-only and
    model-assisted over the map's strata, with the carbon model's cross-validated fit."""
    stock = block(summary, "stock")
    cv = block(stock, "cv")
    out = []
    for key, zh, en in (
        ("survey", "碳储量（样地调查，调查分层）", "Carbon stock, plot survey (survey strata)"),
        ("plots_only", "碳储量（仅样地，制图分层）", "Carbon stock, plots only (map strata)"),
        ("model_assisted", "碳储量（模型辅助）", "Carbon stock, model-assisted (map strata)"),
    ):
        if key == "survey" and not block(stock, key):
            continue
        total, hw = stock_co2e(block(stock, key))
        rel = hw / abs(total) if total and hw is not None else None
        out.append(
            Fact(zh, en, fmt.plus_minus(total, hw), "t CO2e", note=f"± {fmt.pct(rel)} (90 %)")
        )
    out += [
        Fact("样地数", "Plots", fmt.integer(stock.get("n_plots"))),
        Fact(
            "相对效率",
            "Relative efficiency (V plots / V model)",
            fmt.num(stock.get("relative_efficiency"), 2),
        ),
        Fact("交叉验证 R²", "Cross-validated R²", fmt.num(cv.get("r2"), 3)),
        Fact(
            "交叉验证 RMSE", "Cross-validated RMSE", fmt.num(cv.get("rmse_tc_per_ha"), 2), "t C/ha"
        ),
        Fact(
            "交叉验证偏差", "Cross-validated bias", fmt.num(cv.get("bias_tc_per_ha"), 2), "t C/ha"
        ),
    ]
    return out


__all__ = [
    "UNCONFIRMED",
    "Fact",
    "block",
    "code_version_text",
    "deduction_facts",
    "removals_facts",
    "stock_co2e",
    "stock_facts",
    "summary_facts",
]
