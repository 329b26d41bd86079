"""``mrv registry …``: a whole season through the command line, and the refusals.

The CLI runs on the real clock. The season test writes its set-up (parties, parcels, contracts,
project AJ1 and its public notice) *yesterday* through the service functions the CLI calls (a
registry opened with a clock one day back), so that the notice has ended, and drives everything
from registration on through the CLI today. The onboarding test drives the set-up itself
through the CLI.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import itertools
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from mrv.registry import contracts, parcels, projects
from mrv.registry.core import Registry
from mrv.registry.db import make_engine
from mrv.registry.models import JournalEvent
from mrv.registry.parties import create_party
from mrv.settings import Settings
from tests.registry.test_parcels import feature, square, write_geojson

CliRunner = Callable[..., tuple[int, str, str]]
PARTIES = [
    ("coop", "安吉两山竹林碳汇收储合作社", "cooperative"),
    ("h1", "农户 1", "owner_household"),
    ("h2", "农户 2", "owner_household"),
    ("val", "Validation body", "verifier"),
    ("ver", "Verification body", "verifier"),
    ("bureau", "湖州市林业局", "bureau"),
    ("gtc", "湖州绿色交易中心", "trading_centre"),
    ("buyer", "Buyer Co.", "buyer"),
]


def china_today() -> dt.date:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date()


class Mrv:
    """Runs ``mrv registry … --database-url URL --json`` in-process."""

    def __init__(self, cli: CliRunner, url: str) -> None:
        self.cli, self.url = cli, url
        self.engine = make_engine(url)

    def raw(self, *args: Any) -> tuple[int, str, str]:
        return self.cli("registry", *args, "--database-url", self.url, "--json")

    def ok(self, *args: Any) -> Any:
        code, out, err = self.raw(*args)
        assert code == 0, (args, out, err)
        return json.loads(out)

    def events(self) -> int:
        """Journal events, counted in SQL (the CLI's own count is checked against audit)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(JournalEvent)).scalar_one())

    def refused(self, *args: Any, match: str, error: str | None = None) -> dict[str, Any]:
        """Exit code 2, a JSON error whose message matches, and no journal event written."""
        before = self.events()
        code, out, err = self.raw(*args)
        assert code == 2, (args, out, err)
        doc = json.loads(out)
        assert doc["ok"] is False
        assert re.search(match, doc["message"]), doc["message"]
        if error is not None:
            assert doc["error"] == error, doc
        assert self.events() == before
        return dict(doc)


@pytest.fixture
def mrv(
    cli: CliRunner, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Mrv]:
    monkeypatch.setenv("MRV_NOTICE_WORKING_DAYS", "0")
    monkeypatch.setenv("MRV_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MRV_DATABASE_URL", raising=False)
    runner = Mrv(cli, database_url)
    yield runner
    runner.engine.dispose()


def bamboo_methodology(cli: CliRunner) -> tuple[str, str]:
    code, out, _ = cli("methodology", "list", "--json")
    assert code == 0
    found = [m for m in json.loads(out) if m["id"] == "bamboo-moso"]
    assert found
    return found[0]["id"], found[0]["version"]


def parcel_file(tmp_path: Path) -> Path:
    """P1 (h1) 300 m × 300 m = 9 ha and P2 (h2) 200 m × 300 m = 6 ha, 500 m apart."""
    return write_geojson(
        tmp_path / "parcels.geojson",
        [
            feature("P1", square(0, 0), owner="h1", certificate="浙(2024)安吉县林权第0000001号"),
            feature("P2", square(800, 0, 200, 300), owner="h2"),
        ],
    )


def crediting_period() -> tuple[dt.date, dt.date]:
    start = dt.date(china_today().year - 2, 1, 1)
    return start, start.replace(year=start.year + 30)


# -- onboarding: CLI only, today ---------------------------------------------------------------


def test_onboarding_through_the_cli(mrv: Mrv, cli: CliRunner, tmp_path: Path) -> None:
    code, out, _ = mrv.raw("party", "list")
    assert code == 2 and "not initialised" in json.loads(out)["message"]

    first = mrv.ok("init", "--admin", "root", "--name", "Registry")
    assert first["created"] is True and first["roles"] == ["admin"]
    again = mrv.ok("init", "--admin", "root", "--name", "Registry")
    assert again == {"admin": "root", "created": False, "revision": first["revision"]}
    mrv.refused("init", "--admin", "other", "--name", "X", match="already has parties")
    status = mrv.ok("status")
    assert status["up_to_date"] is True and status["counts"]["parties"] == 1
    assert status["counts"]["accounts"] == 2  # root's holding account and the buffer pool

    for party, name, role in PARTIES:
        mrv.ok("party", "create", party, "--name", name, "--role", role, "--as", "root")
    key = ["--idempotency-key", "add-role-coop-buyer"]
    added = mrv.ok("party", "add-role", "coop", "--role", "buyer", "--as", "root", *key)
    replay = mrv.ok("party", "add-role", "coop", "--role", "buyer", "--as", "root", *key)
    assert replay["event"]["replayed"] is True
    assert replay["event"]["id"] == added["event"]["id"]
    assert mrv.ok("party", "show", "coop")["roles"] == ["buyer", "cooperative"]
    assert [p["code"] for p in mrv.ok("party", "list")] == sorted(
        ["root", *(p[0] for p in PARTIES)]
    )
    mrv.refused(
        "party", "create", "x", "--name", "X", "--role", "wizard", "--as", "root", match="wizard"
    )
    mrv.refused(
        "party", "create", "x", "--name", "X", "--role", "buyer", "--as", "coop", match="admin"
    )

    imported = mrv.ok("parcel", "import", parcel_file(tmp_path), "--as", "coop")
    assert imported["count"] == 2
    assert imported["area_ha"] == pytest.approx(15.0, rel=1e-6)
    assert [p["code"] for p in mrv.ok("parcel", "list", "--owner", "h1")] == ["P1"]
    p1 = mrv.ok("parcel", "show", "P1")
    assert p1["area_mu"] == pytest.approx(135.0, rel=1e-6)  # 9 ha × 15 mu/ha
    exported = mrv.ok("parcel", "export", tmp_path / "out.geojson", "--own")
    assert exported["parcels"] == 2
    assert len(json.loads((tmp_path / "out.geojson").read_text())["features"]) == 2

    start, end = crediting_period()
    for contract, owner, parcel in (("C1", "h1", "P1"), ("C2", "h2", "P2")):
        mrv.ok(
            "contract", "create", contract, "--cooperative", "coop", "--owner", owner,
            "--parcel", parcel, "--start", start, "--end", end,
            "--payment-yuan-per-mu", "16.926", "--cycle-years", "3", "--owner-share", "0.8",
            "--as", "coop",
        )  # fmt: skip
    shown = mrv.ok("contract", "show", "C1")
    assert (shown["owner_share_bp"], shown["annual_payment_yuan_per_mu"]) == (8000, "16.926")
    assert [c["code"] for c in mrv.ok("contract", "list", "--cooperative", "coop")] == [
        "C1",
        "C2",
    ]
    due = mrv.ok("contract", "payments", "C1", "--as-of", start)
    # first cycle, paid upfront: 135 mu × ¥16.926 × 3 years = ¥6,855.03
    assert due["total_due_yuan"] == "6855.03"
    assert due["cycles"][0]["amount_yuan"] == "6855.03"
    mrv.refused("contract", "payments", "C1", "--as-of", "2025-02-30", match="--as-of")

    mid, version = bamboo_methodology(cli)
    project = [
        "project", "create", "AJ1", "--name", "安吉毛竹林碳汇", "--proponent", "coop",
        "--validator", "val", "--land-type", "bamboo", "--crediting-start", start,
        "--crediting-end", end, "--risk-score", "12", "--parcel", "P1:C1", "--parcel", "P2:C2",
        "--as", "coop",
    ]  # fmt: skip
    doc = mrv.refused(
        *project, "--methodology", "no-such", "--methodology-version", "9", match="unknown"
    )
    assert f"{mid} {version}" in doc["message"]
    mrv.refused(*project, "--methodology", mid, "--methodology-version", "0.0.0", match="known")
    mrv.refused(
        *project[:-4], "--parcel", "P1-C1", "--methodology", mid, "--methodology-version",
        version, "--as", "coop", match="PARCEL:CONTRACT",
    )  # fmt: skip
    created = mrv.ok(*project, "--methodology", mid, "--methodology-version", version)
    assert created["status"] == "draft" and created["methodology_id"] == mid

    today = china_today().isoformat()
    noticed = mrv.ok("project", "notice", "AJ1", "--as", "coop")
    assert (noticed["notice_start"], noticed["notice_end"]) == (today, today)
    comment = mrv.ok("project", "comment", "AJ1", "--comment", "边界?", "--as", "h1")
    mrv.refused(
        "project", "register", "AJ1", "--as", "root",
        match="comments without a response", error="InvalidStateError",
    )  # fmt: skip
    mrv.ok(
        "project", "respond", "AJ1", comment["comment_id"], "--response", "见附图", "--as", "coop"
    )
    listed = mrv.ok("project", "list", "--status", "public_notice")
    assert [(p["code"], p["parcel_count"]) for p in listed] == [("AJ1", 2)]
    assert mrv.ok("project", "show", "AJ1")["comments"][0]["response"] == "见附图"
    rejected = mrv.ok("project", "reject", "AJ1", "--reason", "boundary dispute", "--as", "root")
    assert rejected["status"] == "rejected"
    assert mrv.ok("audit")["ok"] is True


# -- the season: registration to distribution, through the CLI ---------------------------------


def yesterday_setup(database_url: str, tmp_path: Path, methodology: tuple[str, str]) -> None:
    """Parties, parcels, contracts, project AJ1 and its notice, written yesterday (services)."""

    def yesterday() -> dt.datetime:
        return dt.datetime.now(dt.UTC) - dt.timedelta(days=1)

    reg = Registry.open(Settings(notice_working_days=0), url=database_url, clock=yesterday)
    try:
        create_party(reg, actor="root", code="root", name="Registry", roles=["admin"])
        for code, name, role in PARTIES:
            create_party(reg, actor="root", code=code, name=name, roles=[role])
        parcels.import_parcels(reg, actor="coop", path=parcel_file(tmp_path))
        start, end = crediting_period()
        for contract, owner, parcel in (("C1", "h1", "P1"), ("C2", "h2", "P2")):
            contracts.create_contract(
                reg,
                actor="coop",
                code=contract,
                cooperative="coop",
                owner=owner,
                parcels=[parcel],
                start=start,
                end=end,
                annual_payment_yuan_per_mu="16.926",
                settlement_cycle_years=3,
                owner_share="0.8",
            )
        projects.create_project(
            reg,
            actor="coop",
            code="AJ1",
            name="安吉毛竹林碳汇",
            proponent="coop",
            validator="val",
            methodology_id=methodology[0],
            methodology_version=methodology[1],
            land_type="bamboo",
            crediting_start=start,
            crediting_end=end,
            risk_score=12,
            parcels=[("P1", "C1"), ("P2", "C2")],
        )
        projects.start_public_notice(reg, actor="coop", project="AJ1")
    finally:
        reg.close()


def test_season_through_the_cli(
    mrv: Mrv, cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    yesterday_setup(database_url, tmp_path, bamboo_methodology(cli))
    today = china_today()
    assert mrv.ok("project", "register", "AJ1", "--as", "root")["status"] == "registered"

    # -- monitoring report ---------------------------------------------------------------------
    evidence = tmp_path / "evidence.zip"
    evidence.write_bytes(b"plots, imagery and the MRV run")
    removals = tmp_path / "removals.csv"
    removals.write_text("parcel,tco2e\nP1,600\nP2,400\n", encoding="utf-8")
    start = crediting_period()[0]
    period_end = dt.date(today.year - 1, 12, 31)
    report = [
        "report", "submit", "AJ1", "--period-start", start, "--period-end", period_end,
        "--as", "coop",
    ]  # fmt: skip
    mrv.refused(*report, "--claimed", "1.5", "--evidence", evidence,
                match="--claimed must be a whole number")  # fmt: skip
    report += ["--claimed", "1000"]
    mrv.refused(*report, match="exactly one of --evidence-sha256")
    submitted = mrv.ok(*report, "--evidence", evidence, "--parcel-removals", removals)
    assert submitted["seq"] == 1 and submitted["status"] == "submitted"
    assert submitted["evidence_sha256"] == hashlib.sha256(evidence.read_bytes()).hexdigest()
    assert submitted["parcel_removals"] == {"P1": 600.0, "P2": 400.0}
    mrv.refused(
        "report", "submit", "AJ1", "--period-start", period_end, "--period-end", period_end,
        "--claimed", "10", "--evidence-sha256", "a" * 64, "--as", "coop",
        match="overlaps", error="PeriodOverlapError",
    )  # fmt: skip
    mrv.refused(
        "report", "submit", "AJ1", "--period-start", start, "--period-end", "2025-13-01",
        "--claimed", "10", "--evidence-sha256", "a" * 64, "--as", "coop", match="--period-end",
    )  # fmt: skip
    assert [r["seq"] for r in mrv.ok("report", "list", "AJ1")] == [1]
    assert mrv.ok("report", "show", "AJ1", "1")["claimed_tco2e"] == 1000

    # -- verification --------------------------------------------------------------------------
    mrv.refused(
        "verification", "assign", "AJ1", "1", "--verifier", "val", "--as", "bureau",
        match="validated project AJ1", error="VerifierConflictError",
    )  # fmt: skip
    mrv.ok("verification", "assign", "AJ1", "1", "--verifier", "ver", "--as", "bureau")
    finding = mrv.ok(
        "verification", "finding", "open", "AJ1", "1", "--kind", "CAR",
        "--text", "plot 7 missing", "--as", "ver",
    )  # fmt: skip
    fid = finding["id"]
    mrv.refused(
        "verification", "statement", "AJ1", "1", "--opinion", "positive", "--verified", "900",
        "--statement", "ok", "--as", "ver", match="CAR",
    )  # fmt: skip
    mrv.ok("verification", "finding", "respond", fid, "--response", "re-measured", "--as", "coop")
    assert mrv.ok("verification", "finding", "close", fid, "--as", "ver")["status"] == "closed"
    stated = mrv.ok(
        "verification", "statement", "AJ1", "1", "--opinion", "positive", "--verified", "900",
        "--statement", "Reasonable assurance.", "--as", "ver",
    )  # fmt: skip
    assert stated["status"] == "positive" and stated["verified_tco2e"] == 900
    assert mrv.ok("verification", "show", "AJ1", "1")["findings"][0]["status"] == "closed"

    # -- issuance: risk 12 → buffer 12 % of 900 = 108 t, 792 t held by coop ---------------------
    issued = mrv.ok("issue", "AJ1", "1", "--as", "root")
    batch = issued["batch"]
    assert batch == f"HZ-BAM-AJ1-{today.year - 1}-001"
    assert (issued["buffer_tco2e"], issued["held_tco2e"]) == (108, 792)
    mrv.refused("issue", "AJ1", "1", "--as", "root", error="DoubleIssuanceError", match="already")

    # -- transfers and refusals ----------------------------------------------------------------
    move = ["credits", "transfer", "--from", "coop", "--to", "buyer", "--batch", batch]
    moved = mrv.ok(*move, "--quantity", "100", "--as", "coop")
    assert moved["blocks"][0]["serial_start"] == 1 and moved["blocks"][0]["serial_end"] == 100
    for bad in ("0", "-1"):
        mrv.refused(*move, f"--quantity={bad}", "--as", "coop", match="quantity must be positive")
    mrv.refused(*move, "--quantity", "1.5", "--as", "coop", match="--quantity must be a whole")
    mrv.refused(*move, "--quantity", "5", "--as", "buyer", error="NotHolderError",
                match="buyer is not the holder of account coop")  # fmt: skip

    # -- trading: list 300 t, transfer of listed credits refused, settle -----------------------
    lot = mrv.ok(
        "lot", "create", "--account", "coop", "--batch", batch, "--quantity", "300",
        "--ask-yuan-per-t", "55.00", "--as", "coop",
    )["lot"]  # fmt: skip
    mrv.refused(*move, "--quantity", "500", "--as", "coop", error="CreditsListedError",
                match="392 t .* free to move; 300 t more are listed")  # fmt: skip
    settled = mrv.ok(
        "lot", "settle", lot, "--buyer", "buyer", "--price-yuan-per-t", "52.50",
        "--fees-yuan", "150.00", "--trade-ref", "HZGTC-1", "--as", "gtc",
    )  # fmt: skip
    assert settled["gross_yuan"] == "15750.00"  # 300 t × ¥52.50
    assert mrv.ok("lot", "show", lot)["status"] == "settled"
    price = mrv.ok("price", "--on", today)
    assert (price["reference_price_yuan_per_t"], price["quantity_tco2e"]) == ("52.50", 300)

    # net ¥15,600 × removal share (600/1000, 400/1000) × owner share 0.8
    dist = mrv.ok("distribution", "show", lot)
    assert dist["net_yuan"] == "15600.00" and dist["basis"] == "parcel_removals"
    assert {ln["owner"]: ln["amount_yuan"] for ln in dist["lines"]} == {
        "h1": "7488.00",
        "h2": "4992.00",
    }
    assert dist["cooperative_retained_yuan"] == "3120.00"
    h1_line = next(ln["line_id"] for ln in dist["lines"] if ln["owner"] == "h1")
    paid = mrv.ok(
        "distribution", "pay", h1_line, "--amount-yuan", "7488.00", "--bank-reference",
        "ABC-0001", "--paid-on", today, "--as", "coop",
    )  # fmt: skip
    assert paid["outstanding_yuan"] == "0.00"
    statement = mrv.ok("distribution", "statement", "--lot", lot)
    assert statement["totals"] == {
        "due_yuan": "12480.00",
        "paid_yuan": "7488.00",
        "outstanding_yuan": "4992.00",
    }

    # -- retirement (buyer holds 100 + 300 = 400 t) ----------------------------------------------
    judgment = tmp_path / "judgment.pdf"
    judgment.write_bytes(b"%PDF judgment of the court")
    retire = [
        "retire", "--account", "buyer", "--batch", batch, "--beneficiary", "南太湖生态修复",
        "--as", "buyer",
    ]  # fmt: skip
    judicial = [
        "--purpose", "judicial_restoration", "--case-number", "(2025)浙0523刑初123号",
        "--court", "安吉县人民法院", "--payer", "某建材有限公司", "--restoration-site",
        "安吉县天荒坪镇", "--judgment", judgment,
    ]  # fmt: skip
    mrv.refused(*retire, "--quantity", "401", *judicial, error="InsufficientCreditsError",
                match="buyer holds 400 t")  # fmt: skip
    mrv.refused(*retire, "--quantity", "5", "--purpose", "greenwashing", match="unknown retirement")
    mrv.refused(*retire, "--quantity", "5", *judicial[:2], *judicial[4:],
                error="MissingFieldError", match="needs case number")  # fmt: skip
    mrv.refused(*retire, "--quantity", "5", "--purpose", "voluntary", "--judgment",
                tmp_path / "missing.pdf", match="--judgment: no file")  # fmt: skip
    retired = mrv.ok(*retire, "--quantity", "50", *judicial)
    number = retired["certificate_no"]
    assert retired["judgment_sha256"] == hashlib.sha256(judgment.read_bytes()).hexdigest()
    assert retired["serials"] == [f"{batch}-000000001-000000050"]
    assert mrv.ok("certificate", "show", number)["hash_ok"] is True
    html = mrv.ok("certificate", "html", number, "--out", tmp_path / "cert.html")
    assert html["bytes"] > 0 and "(2025)浙0523刑初123号" in (tmp_path / "cert.html").read_text()
    mrv.ok("certificate", "pdf", number, "--out", tmp_path / "cert.pdf")
    assert (tmp_path / "cert.pdf").read_bytes().startswith(b"%PDF")
    assert mrv.ok("certificate", "verify", number)["ok"] is True

    # -- a listed lot, a cancellation and a reversal, for the exports ---------------------------
    lot2 = mrv.ok(
        "lot", "create", "--account", "coop", "--batch", batch, "--quantity", "10",
        "--ask-yuan-per-t", "60", "--as", "coop",
    )["lot"]  # fmt: skip
    cancelled = mrv.ok(
        "credits", "cancel", "--account", "coop", "--batch", batch, "--quantity", "5",
        "--reason-code", "correction", "--reason", "double-counted plot", "--as", "coop",
    )  # fmt: skip
    assert cancelled["quantity_tco2e"] == 5
    mrv.ok("reversal", "AJ1", "--loss", "3", "--kind", "reported", "--description", "storm",
           "--as", "coop")  # fmt: skip

    # coop: 792 − 100 − 300 − 10 − 5 = 377 held, 10 listed, 5 cancelled
    holdings = mrv.ok("credits", "holdings", "coop")["total"]
    assert (holdings["held"], holdings["listed"], holdings["cancelled"]) == (377, 10, 5)
    summary = mrv.ok("credits", "batch", batch)
    assert (summary["held"], summary["listed"], summary["retired"]) == (377 + 350, 10, 50)
    assert (summary["buffer"], summary["cancelled"]) == (105, 8)  # reversal: 3 t of the buffer
    located = mrv.ok("credits", "serial", batch, "20")
    assert located["status"] == "retired" and located["account"] == "buyer"
    page = mrv.ok("credits", "blocks", "--batch", batch, "--limit", "2")
    assert len(page["items"]) == 2 and page["next_cursor"] is not None

    rows = mrv.ok("credits", "export", tmp_path / "credits.csv", "--batch", batch)["rows"]
    with (tmp_path / "credits.csv").open(encoding="utf-8", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == rows
    spans = sorted((int(r["serial_start"]), int(r["serial_end"])) for r in table)
    assert spans[0][0] == 1 and spans[-1][1] == 900
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(spans))
    assert sum(int(r["quantity"]) for r in table) == 900
    assert {r["methodology"] for r in table} == {f"{m} {v}" for m, v in [bamboo_methodology(cli)]}

    cadt = mrv.ok("export", "cadt", tmp_path / "cadt.json")
    assert (cadt["projects"], cadt["issuances"], cadt["labels"]) == (1, 1, 0)
    data = json.loads((tmp_path / "cadt.json").read_text(encoding="utf-8"))
    assert data["projects"][0]["projectStatus"] == "Registered"
    units = data["units"]
    spans = sorted((int(u["unitBlockStart"]), int(u["unitBlockEnd"])) for u in units)
    assert spans[0][0] == 1 and spans[-1][1] == 900
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(spans))
    by_status: dict[str, int] = {}
    for u in units:
        by_status[u["unitStatus"]] = by_status.get(u["unitStatus"], 0) + u["unitCount"]
    assert by_status == {"Held": 377 + 350 + 10, "Retired": 50, "Buffer": 105, "Cancelled": 8}
    listed = [u for u in units if u["marketplaceIdentifier"] is not None]
    assert [(u["marketplaceIdentifier"], u["unitCount"]) for u in listed] == [(lot2, 10)]
    retired_unit = next(u for u in units if u["unitStatus"] == "Retired")
    assert retired_unit["unitStatusReason"] == "judicial_restoration: 南太湖生态修复"
    assert "7488" not in json.dumps(data) and "农户" not in json.dumps(data, ensure_ascii=False)

    # -- journal and audit ---------------------------------------------------------------------
    stream = mrv.ok("journal", "--stream", "project:AJ1", "--limit", "1000")["items"]
    assert [e["operation"] for e in stream][:3] == [
        "create_project",
        "start_public_notice",
        "register_project",
    ]
    result = mrv.ok("audit")
    assert result["ok"] and result["invariants_ok"] and result["journal_ok"]
    assert result["problems"] == []
    assert result["events"] == len(mrv.ok("journal", "--limit", "1000")["items"])
    code, out, _ = cli("registry", "audit", "--database-url", database_url)
    assert code == 0 and out.startswith("audit OK")


def test_bad_dates_and_numbers_name_their_option(mrv: Mrv) -> None:
    """Refusals before any service runs: exit 2 and a message naming the option."""
    status = mrv.ok("status")
    assert (status["revision"], status["up_to_date"], status["counts"]) == (None, False, None)
    code, out, _ = mrv.raw("init", "--admin", "bad code!", "--name", "X")
    error = json.loads(out)
    assert code == 2 and error["code"] == "invalid-input" and error["detail"]["field"] == "code"
    mrv.ok("init", "--admin", "root", "--name", "Registry")
    mrv.refused("price", "--on", "yesterday", match="--on must be a date YYYY-MM-DD")
    mrv.refused("journal", "--limit", "ten", match="--limit must be a whole number")
    price = mrv.ok("price", "--window", "5")
    assert (price["reference_price_yuan_per_t"], price["lots"]) == (None, 0)
    assert price["window_trading_days"] == 5
