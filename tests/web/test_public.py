"""The public registry explorer (no login) and its API additions: ``GET /v1/retirements`` and
``GET /v1/price/history``.

One registry state for the module's tests, built with the registry's own operations: two
registered projects (AJ001: 1,000 t issued, 10 % buffer; AJ002: 500 t), four lots of AJ001
settled to buyer-1 on three days at known prices, a lot still listed, and two retirements by
buyer-1 (a judicial restoration and a voluntary one). Every number asserted below is computed
by hand from these.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mrv.registry.core import Registry
from mrv.registry.queries import holdings
from mrv.registry.retirement import get_retirement, list_retirements, retire
from mrv.registry.trading import list_lot, price_history, reference_price
from tests.api.support_credits import pages, problem
from tests.registry.builders import BUYER, COOPERATIVE, issued_batch, settled_lot

DAY1, DAY2, SUNDAY = dt.date(2026, 2, 26), dt.date(2026, 2, 27), dt.date(2026, 3, 1)
"""Thursday and Friday (trading days) and Sunday 1 March 2026 (not one); the clock's today is
Monday 2 March 2026."""
LOTS = ((100, "60.00", DAY1), (50, "70.00", DAY2), (150, "66.00", DAY2), (20, "80.00", SUNDAY))
JUDICIAL = {
    "case_number": "(2026)浙0502刑初7号",
    "court": "湖州市吴兴区人民法院",
    "payer": "被告人 李某",
    "restoration_site": "西苕溪湿地",
}
OWNERS = ("owner-P1", "owner-P2", "owner-P3")
HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}


@pytest.fixture
def state(registry: Registry) -> dict[str, Any]:
    one = issued_batch(registry, verified=1000)
    two = issued_batch(
        registry, verified=500, project="AJ002", parcels=(("P1", 5.0, 8000), ("P2", 7.0, 8000))
    )
    for i, (quantity, price, day) in enumerate(LOTS):
        settled_lot(registry, one, quantity=quantity, price_yuan_per_t=price, settled_on=day,
                    trade_ref=f"HZGTC-2026-{i:04d}")  # fmt: skip
    list_lot(registry, actor=COOPERATIVE, account=COOPERATIVE, batch=one["batch"], quantity=25,
             ask_yuan_per_t="90.00")  # fmt: skip
    judicial = retire(registry, actor=BUYER, account=BUYER, batch=one["batch"], quantity=30,
                      purpose="judicial_restoration", beneficiary="西苕溪湿地生态修复",
                      **JUDICIAL).result  # fmt: skip
    voluntary = retire(registry, actor=BUYER, account=BUYER, batch=one["batch"], quantity=10,
                       purpose="voluntary", beneficiary="Buyer Co. 2025").result  # fmt: skip
    return {"one": one, "two": two, "judicial": judicial, "voluntary": voluntary}


def _data(html: str, element_id: str) -> Any:
    """The JSON a page hands to its scripts in ``<script type="application/json" id=…>``."""
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html)
    assert found, element_id
    return json.loads(found.group(1))


def _text(html: str) -> str:
    """The page's text without tags and with collapsed spaces (for phrases split over lines)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _record(web: TestClient, number: str) -> dict[str, Any]:
    """The certificate record as the public API gives it."""
    r = web.get(f"/v1/retirements/{number}", headers=JSON)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _private_data_absent(html: str) -> None:
    for owner in OWNERS:
        assert owner not in html
    assert "林权" not in html  # land-right certificate ids
    assert "农户" not in html  # household names


# -- the registry and API additions ------------------------------------------------------------


def test_price_history_per_day_against_hand_computed_prices(
    registry: Registry, state: dict[str, Any], web: TestClient
) -> None:
    # day 1: 100 t at 60 → 60.00; reference on day 1 = 60.00
    # day 2: (50·70 + 150·66) / 200 = 13,400 / 200 = 67.00;
    #        reference = (6,000 + 13,400) / 300 = 64.666… → 64.67
    # Sunday: 20 t at 80; its window ends on Saturday 28 February (a make-up working day), so
    # the reference still excludes it: 64.67. Today (Monday): 21,000 / 320 = 65.625 → 65.63.
    expected = [
        {"day": "2026-02-26", "trading_day": True, "lots": 1, "quantity_tco2e": 100,
         "price_yuan_per_t": "60.00", "reference_price_yuan_per_t": "60.00"},
        {"day": "2026-02-27", "trading_day": True, "lots": 2, "quantity_tco2e": 200,
         "price_yuan_per_t": "67.00", "reference_price_yuan_per_t": "64.67"},
        {"day": "2026-03-01", "trading_day": False, "lots": 1, "quantity_tco2e": 20,
         "price_yuan_per_t": "80.00", "reference_price_yuan_per_t": "64.67"},
    ]  # fmt: skip
    assert price_history(registry) == expected
    assert reference_price(registry, dt.date(2026, 3, 2))["reference_price_yuan_per_t"] == "65.63"
    r = web.get("/v1/price/history", headers=JSON)
    assert r.status_code == 200, r.text
    assert r.json() == {"window_trading_days": 30, "days": expected}
    # a one-day window: a trading day's own mean; Sunday's window is Saturday, without trades
    short = web.get("/v1/price/history?window=1", headers=JSON).json()["days"]
    assert [d["reference_price_yuan_per_t"] for d in short] == ["60.00", "67.00", None]
    problem(web.get("/v1/price/history?window=0", headers=JSON), 422, "invalid-input")


def test_retirements_are_listed_and_paged_like_the_other_lists(
    registry: Registry, state: dict[str, Any], web: TestClient
) -> None:
    judicial, voluntary = state["judicial"]["certificate_no"], state["voluntary"]["certificate_no"]
    listed = list_retirements(registry)
    assert [r["certificate_no"] for r in listed] == [judicial, voluntary]  # oldest first
    assert listed == [get_retirement(registry, judicial), get_retirement(registry, voluntary)]
    assert listed[0]["case_number"] == JUDICIAL["case_number"] and listed[0]["hash_ok"] is True
    assert sum(r["quantity_tco2e"] for r in listed) == holdings(registry, BUYER)["total"]["retired"]
    every = pages(web, "/v1/retirements", {"limit": 1}, headers=JSON)
    assert every == listed
    by_purpose = web.get("/v1/retirements?purpose=voluntary", headers=JSON).json()
    assert [r["certificate_no"] for r in by_purpose["items"]] == [voluntary]
    assert by_purpose["next_cursor"] is None
    assert web.get(f"/v1/retirements?account={BUYER}", headers=JSON).json()["items"] == listed
    assert web.get(f"/v1/retirements?account={COOPERATIVE}", headers=JSON).json()["items"] == []
    problem(web.get("/v1/retirements?purpose=fun", headers=JSON), 422, "invalid-input")
    problem(web.get("/v1/retirements?cursor=bm90LWEtY3Vyc29y", headers=JSON), 422, "invalid-input")


# -- pages -------------------------------------------------------------------------------------


def test_home_shows_figures_map_projects_issuances_chart_and_retirements(
    state: dict[str, Any], web: TestClient
) -> None:
    zh = web.get("/?lang=zh")
    assert zh.status_code == 200, zh.text
    html = zh.text
    text = _text(html)
    # 2 registered projects; 1,000 + 500 t issued; 30 + 10 t retired; reference price today
    figures = (("projects", "2"), ("issued", "1,500"), ("retired", "40"), ("price", "¥65.63"))
    for figure, value in figures:
        block = re.search(rf'id="figure-{figure}">\s*<div class="value">([^<]*)<', html)
        assert block and block.group(1) == value, figure
    assert "已登记项目" in text and "参考价格走势" in text and "最近注销" in text
    projects = _data(html, "project-map")
    features = {f["properties"]["project"]: f for f in projects["features"]}
    assert set(features) == {"AJ001", "AJ002"}
    one = features["AJ001"]
    assert one["properties"]["href"] == "/projects/AJ001"
    assert one["properties"]["kind"] == "project"
    assert one["properties"]["label"] == "安吉毛竹林碳汇项目 AJ001 (AJ001)"
    assert one["geometry"]["type"] == "MultiPolygon"  # three separate squares
    assert len(one["geometry"]["coordinates"]) == 3
    assert len(features["AJ002"]["geometry"]["coordinates"]) == 2
    assert 'data-context="/geo/counties.geojson"' in html
    row = re.search(r'<tr data-project="AJ001">(.*?)</tr>', html, re.S)
    assert row and "已登记" in row.group(1) and "20.00" in row.group(1) and "300.0" in row.group(1)
    batch = re.search(rf'<tr data-batch="{state["one"]["batch"]}">(.*?)</tr>', html, re.S)
    assert batch
    cells = dict(re.findall(r'class="num (\w+)">([^<]*)<', batch.group(1)))
    assert cells == {"issued": "1,000", "held": "835", "listed": "25", "retired": "40",
                     "cancelled": "0", "buffer": "100"}  # fmt: skip
    chart = _data(html, "price-series")
    assert chart["x"] == [1772064000, 1772150400, 1772323200]  # UTC midnights of the three days
    assert [s["values"] for s in chart["series"]] == [[60.0, 67.0, 80.0], [60.0, 64.67, 64.67]]
    assert chart["series"][1]["label"] == "参考价格（30 个交易日）"
    # newest retirement first
    assert html.index(state["voluntary"]["certificate_no"]) < html.index(
        state["judicial"]["certificate_no"]
    )
    assert 'action="/serials"' in html
    _private_data_absent(html)
    en = web.get("/?lang=en").text
    assert "Registered projects" in en and "Recent retirements" in en and "已登记项目" not in en
    assert _data(en, "price-series")["series"][1]["label"] == "Reference price (30 trading days)"
    _private_data_absent(en)


def test_project_page_shows_facts_parcels_reports_and_batches(
    state: dict[str, Any], web: TestClient
) -> None:
    html = web.get("/projects/AJ001?lang=en").text
    text = _text(html)
    assert "安吉毛竹林碳汇项目 AJ001" in text and "Registered" in text
    assert "HZ-BAMBOO-AR 1.0" in text and "Bamboo forest" in text
    assert "2021-01-01 – 2050-12-31" in text
    assert "20.00 ha · 300.0 mu" in text  # 10 + 6 + 4 ha, 15 mu per ha
    assert re.search(r'id="project-parcels">3<', html)
    parcels = _data(html, "parcel-map")["features"]
    assert [f["properties"]["parcel"] for f in parcels] == ["AJ001-P1", "AJ001-P2", "AJ001-P3"]
    assert {f["properties"]["kind"] for f in parcels} == {"parcel"}
    assert parcels[0]["properties"]["label"] == "AJ001-P1 · 10.00 ha"
    assert parcels[0]["geometry"]["type"] == "Polygon"
    report = re.search(r'<tr data-report="1">(.*?)</tr>', html, re.S)
    assert report
    assert "2024-01-01 – 2024-12-31" in report.group(1)
    assert re.search(r'class="num claimed">1,000<', report.group(1))
    assert re.search(r'class="num verified">1,000<', report.group(1))
    assert "Positive" in report.group(1) and "Issued" in report.group(1)
    assert f'data-batch="{state["one"]["batch"]}"' in html
    assert state["two"]["batch"] not in html
    _private_data_absent(html)
    zh = web.get("/projects/AJ002?lang=zh").text
    assert "12.00 公顷 · 180.0 亩" in _text(zh) and "竹林" in zh
    _private_data_absent(zh)


def test_batch_page_shows_tonnes_by_status_and_blocks(
    state: dict[str, Any], web: TestClient
) -> None:
    prefix = state["one"]["batch"]
    html = web.get(f"/batches/{prefix}?lang=zh").text
    for name, value in (("issued", "1,000"), ("held", "835"), ("listed", "25"),
                        ("retired", "40"), ("cancelled", "0"), ("buffer", "100")):  # fmt: skip
        assert re.search(rf'id="batch-{name}">{value}<', html), name
    assert f"{prefix}-000000901-000001000" in html  # the buffer block
    assert "缓冲库" in html and "已注销" in html
    assert state["judicial"]["certificate_no"] in html
    en = web.get(f"/batches/{prefix}?lang=en").text
    assert "Buffer pool" in en and "Serial blocks" in en
    _private_data_absent(en)


def test_serial_search_finds_a_serial_or_shows_the_form_with_the_error(
    state: dict[str, Any], web: TestClient
) -> None:
    prefix = state["one"]["batch"]
    form = web.get("/serials")
    assert form.status_code == 200 and 'id="serial-search"' in form.text
    assert 'id="serial-result"' not in form.text
    buffer = web.get(f"/serials?batch={prefix}&serial=950&lang=en")
    assert buffer.status_code == 200
    assert re.search(rf'id="serial-block">{prefix}-000000901-000001000<', buffer.text)
    assert 'data-status="buffer"' in buffer.text and "Buffer pool" in buffer.text
    assert re.search(r'id="serial-account">BUFFER<', buffer.text)
    first_retired = state["judicial"]["serials"][0]  # e.g. …-000000101-000000130
    start = int(first_retired.rsplit("-", 2)[1])
    retired = web.get(f"/serials?batch={prefix}&serial={start}&lang=zh")
    assert retired.status_code == 200
    assert re.search(rf'id="serial-block">{first_retired}<', retired.text)
    assert 'data-status="retired"' in retired.text and "已注销" in retired.text
    assert re.search(rf'id="serial-account">{BUYER}<', retired.text)
    assert "来源区段" in retired.text  # it came through the cooperative's and the buyer's blocks
    beyond = web.get(f"/serials?batch={prefix}&serial=1001")
    assert beyond.status_code == 404
    assert 'class="alert error"' in beyond.text and "has no serial 1001" in beyond.text
    assert 'id="serial-search"' in beyond.text and 'value="1001"' in beyond.text
    unknown = web.get("/serials?batch=HZ-NONE&serial=1")
    assert unknown.status_code == 404 and "HZ-NONE" in unknown.text
    for bad in ("abc", "0", "-3"):
        refused = web.get(f"/serials?batch={prefix}&serial={bad}")
        assert refused.status_code == 422, bad
        assert 'class="alert error"' in refused.text and 'id="serial-result"' not in refused.text
    assert web.get("/serials?batch=&serial=5").status_code == 422


def test_retirement_list_and_certificate_with_its_verification(
    state: dict[str, Any], web: TestClient
) -> None:
    judicial, voluntary = state["judicial"]["certificate_no"], state["voluntary"]["certificate_no"]
    listing = web.get("/retirements?lang=en").text
    assert listing.index(voluntary) < listing.index(judicial)
    assert "2 retirements, 40 t CO₂e (newest first)" in _text(listing)
    assert 'id="retirement-pages"' not in listing
    with pytest.MonkeyPatch.context() as mp:  # one row a page: the newest, then the older
        mp.setattr("api.web.pages.public.PAGE_ROWS", 1)
        first, second = (web.get(f"/retirements?lang=en&page={n}").text for n in (1, 2))
        assert voluntary in first and judicial not in first and 'rel="next"' in first
        assert judicial in second and voluntary not in second and 'rel="prev"' in second
        assert "Page 2 of 2" in second and "2 retirements, 40 t" in _text(second)
    assert web.get("/retirements?page=0").status_code == 422
    only = web.get("/retirements?purpose=judicial_restoration&lang=zh").text
    assert judicial in only and voluntary not in only
    assert "共 1 笔，30 吨 CO₂e（由新到旧）" in _text(only)
    page = web.get(f"/retirements/{judicial}?lang=zh")
    assert page.status_code == 200
    html = page.text
    record = _record(web, judicial)
    assert re.search(rf'id="certificate-no">{judicial}<', html)
    assert re.search(r'id="certificate-quantity">30<', html)
    assert f'<a id="certificate-pdf" href="/v1/retirements/{judicial}/certificate.pdf">' in html
    assert f'<a id="certificate-html" href="/v1/retirements/{judicial}/certificate.html">' in html
    assert "司法生态修复" in html and "西苕溪湿地生态修复" in html
    for value in JUDICIAL.values():
        assert value in html
    for serial in record["serials"]:
        assert serial in html
    section = re.search(r'<section id="certificate-verification".*?</section>', html, re.S)
    assert section
    assert 'data-ok="true"' in section.group(0) and "核验通过" in section.group(0)
    assert re.search(r'id="verification-hash" data-ok="true"', section.group(0))
    assert re.search(r'id="verification-journal" data-ok="true"', section.group(0))
    assert record["certificate_sha256"] in section.group(0)
    assert web.get(f"/v1/retirements/{judicial}/certificate.pdf").content.startswith(b"%PDF")
    en = web.get(f"/retirements/{voluntary}?lang=en").text
    assert "Voluntary" in en and "Verified" in en and 'id="certificate-judicial"' not in en
    assert re.search(r'id="certificate-quantity">10<', en)
    _private_data_absent(html)
    _private_data_absent(en)


def test_price_page_shows_today_the_chart_and_the_days(
    state: dict[str, Any], web: TestClient
) -> None:
    html = web.get("/price?lang=en").text
    text = _text(html)
    assert "¥65.63" in text and "(4 lots, 320 t)" in text
    chart = _data(html, "price-series")
    assert chart["series"][0]["values"] == [60.0, 67.0, 80.0]
    day = re.search(r'<tr data-day="2026-02-27">(.*?)</tr>', html, re.S)
    assert day
    assert re.findall(r'class="num">([^<]*)<', day.group(1)) == ["2", "200", "¥67.00", "¥64.67"]
    sunday = re.search(r'<tr data-day="2026-03-01">(.*?)</tr>', html, re.S)
    assert sunday and "not a trading day" in sunday.group(1)
    assert "非交易日" in web.get("/price?lang=zh").text


def test_unknown_records_are_404_pages(state: dict[str, Any], web: TestClient) -> None:
    for url in ("/projects/NOPE", "/retirements/HZ-RET-000000000000", "/batches/HZ-NONE"):
        r = web.get(url, headers=HTML)
        assert r.status_code == 404, url
        assert r.headers["content-type"].startswith("text/html")
        assert "404" in r.text


def test_pages_without_anything_registered(web: TestClient) -> None:
    html = web.get("/?lang=en").text
    assert "No projects yet." in html and "No retirements yet." in html
    assert _data(html, "project-map") == {"type": "FeatureCollection", "features": []}
    assert _data(html, "price-series")["x"] == []
    assert re.search(r'id="figure-price">\s*<div class="value">—<', html)
    assert "No trades yet." in web.get("/price?lang=en").text


def test_county_boundaries_for_map_context(web: TestClient) -> None:
    r = web.get("/geo/counties.geojson")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    data = r.json()
    assert data["type"] == "FeatureCollection"
    props = [f["properties"] for f in data["features"]]
    assert [p["code"] for p in props] == ["330502", "330503", "330521", "330522", "330523"]
    assert {p["kind"] for p in props} == {"context"}
    assert props[-1]["label"] == "安吉县 Anji county"
    # converted from GCJ-02 to WGS84 and inside Huzhou's box (README: 119.237–120.489 E)
    anji = data["features"][-1]["geometry"]
    lons = [x for poly in anji["coordinates"] for ring in poly for x, _ in ring]
    assert 119.2 < min(lons) < 119.3 and 119.85 < max(lons) < 119.9
