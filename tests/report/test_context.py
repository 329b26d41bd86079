"""Pure parts of the report: number formatting, tables built from summary rows, stock blocks."""

from __future__ import annotations

import pytest

from pipelines.report import fmt
from pipelines.report.context import parameters_table, parcels_table, stock_strata_rows
from pipelines.report.facts import stock_co2e
from pipelines.report.qa import confusion_table, validation_table


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (1234567.891, 1, "1,234,567.9"),
        (-1234.5, 0, "-1,234"),  # round half to even, as Python's format
        (-0.04, 1, "0.0"),  # no negative zero
        (0.5, 3, "0.500"),
        (None, 1, "—"),
        (float("nan"), 1, "—"),
        ("12.5", 1, "12.5"),
        ("abc", 1, "—"),
        (True, 1, "—"),
    ],
)
def test_num(value: object, decimals: int, text: str) -> None:
    assert fmt.num(value, decimals) == text


def test_other_formats() -> None:
    assert fmt.integer(12345.0) == "12,345"
    assert fmt.pct(0.12345) == "12.3 %"
    assert fmt.plus_minus(1000.0, 12.34) == "1,000.0 ± 12.3"
    assert fmt.plus_minus(1000.0, None) == "1,000.0"
    assert fmt.interval(1.0, None) == "—"


def test_parcels_table_total_row() -> None:
    rows = [
        {"parcel_code": "A", "owner": "张三", "land_type": "tea", "area_ha": 1.5, "area_mu": 22.5,
         "share": 0.25, "removals_tco2e": 10.125, "removals_tco2e_per_ha_yr": 3.375},
        {"parcel_code": "B", "owner": "李四", "land_type": "tea", "area_ha": 2.25, "area_mu": 33.75,
         "share": 0.75, "removals_tco2e": 30.375, "removals_tco2e_per_ha_yr": 6.75},
    ]  # fmt: skip
    table = parcels_table(rows)
    heads = [c.en for c in table.columns]
    assert heads[:3] == ["Parcel", "Owner", "Land type"]
    assert table.rows[0].cells == (
        "A",
        "张三",
        "茶园 tea",
        "1.50",
        "22.5",
        "25.00 %",
        "10.125",
        "3.38",
    )
    (total,) = table.footer
    # 1.5 + 2.25 = 3.75 ha, 56.25 mu, shares sum to 100 %, 40.5 t; no per-ha total
    assert total.cells == ("合计 Total (2)", "", "", "3.75", "56.2", "100.00 %", "40.500", "")
    assert total.css == "total"


def test_parameters_flag_unconfirmed_by_field_or_list() -> None:
    params = [
        {"name": "a", "value": 0.47, "unit": "1", "source": "s", "confirmed": True},
        {"name": "b", "value": 747.787, "unit": "kg", "source": "s", "confirmed": False},
        {"name": "c", "value": "aboveground", "unit": "-", "source": "s", "confirmed": True},
    ]
    table = parameters_table(params, unconfirmed=["c"])
    assert [r.css for r in table.rows] == ["", "unconfirmed", "unconfirmed"]
    assert table.rows[1].cells[1] == "747.787" and table.rows[2].cells[4] == "未确认 unconfirmed"


def test_map_zones_are_named_by_class() -> None:
    rows = [{"zone": 1, "label": "moso_bamboo"}, {"zone": 3, "label": None}, {"zone": 9}]
    named = stock_strata_rows(rows, ["moso_bamboo", "other_forest", "tea_garden"])
    assert [r.get("label") for r in named] == ["moso_bamboo", "tea_garden", None]


def test_stock_in_tc_is_converted_to_co2e() -> None:
    total, hw = stock_co2e({"total_tc": 120.0, "ci90_low_tc": 110.0, "ci90_high_tc": 130.0})
    assert total == pytest.approx(440.0) and hw == pytest.approx(10.0 * 44 / 12)
    assert stock_co2e({"total_co2e_t": 5.0, "ci90_half_width_co2e_t": 1.0}) == (5.0, 1.0)
    assert stock_co2e({}) == (None, None)


def test_confusion_totals_and_validation_counts() -> None:
    table = confusion_table(["moso_bamboo", "open_water"], [[9, 1], [2, 1000]])
    assert table.rows[1].cells == ("开阔水面 open water", "2", "1,000", "1,002")
    assert table.footer[0].cells == ("合计 Total", "11", "1,001", "1,012")
    problems = [
        {"reason": "x", "file": "plots.csv", "row": 3, "column": "dbh_cm", "severity": "error"},
        {"reason": "y", "severity": "warning"},
        "plain text note",
    ]
    validation, counts = validation_table(problems)
    assert counts == (1, 2)
    assert validation.rows[0].cells == ("错误 error", "plots.csv, row 3, column dbh_cm", "x")
