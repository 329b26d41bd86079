"""The registry half of a season (``make demo``): a campaign run and its evidence package go
through the registry's real workflow, every step a journaled service call.

Parties (cooperative, bureau, verifiers, trading centre, court, buyers and every household of the
site), the site's parcels, one collection contract per household, the project over all parcels
(public notice shortened to zero working days for the demo), the monitoring report carrying the
package's SHA-256 and the per-parcel removals, verification with one corrective action request
opened, answered and closed, issuance with the buffer, a trading lot listed and settled by the
trading centre (benefits distributed to the households), a judicial-restoration retirement with
its certificate, and the audit.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from mrv.registry.audit import audit
from mrv.registry.certificate import certificate_pdf, verify_certificate
from mrv.registry.contracts import create_contract
from mrv.registry.core import Registry
from mrv.registry.distribution import distribution_statement
from mrv.registry.issuance import issue
from mrv.registry.monitoring import submit_report
from mrv.registry.parcels import import_parcels
from mrv.registry.parties import create_party
from mrv.registry.projects import create_project, register_project, start_public_notice
from mrv.registry.retirement import retire
from mrv.registry.trading import list_lot, settle_lot
from mrv.registry.verification import (
    assign_verifier,
    close_finding,
    issue_statement,
    open_finding,
    respond_to_finding,
)

PROJECT = "AJB001"
PARTIES: dict[str, tuple[str, str]] = {
    "root": ("湖州碳汇登记簿管理员 Registry administrator", "admin"),
    "anji-coop": (
        "安吉县两山竹林碳汇收储合作社 Anji two-mountains bamboo cooperative",
        "cooperative",
    ),
    "anji-forestry": ("安吉县林业局 Anji County Forestry Bureau", "bureau"),
    "zj-validator": ("浙江省某审定机构 Validation body", "verifier"),
    "hz-verifier": ("湖州某核查机构 Verification body", "verifier"),
    "hz-gtc": ("湖州绿色交易中心 Huzhou green trading centre", "trading_centre"),
    "hz-court": ("湖州市中级人民法院 Huzhou Intermediate People's Court", "court"),
    "defendant-001": ("某被告人 (非法采伐案) Defendant, illegal logging case", "buyer"),
}
"""Who takes part (code → name, role)."""

ASK_YUAN_PER_T = "73.41"
"""Ask and settlement price of the demo lot (¥/t CO2e; Anji's 2021 bamboo-carbon sales were
reported around this level — an illustration, not a market figure)."""


def _households(parcels_path: Path) -> dict[str, list[str]]:
    import geopandas as gpd

    frame = gpd.read_file(parcels_path)
    out: dict[str, list[str]] = {}
    for code, owner in zip(frame["code"].astype(str), frame["owner"].astype(str), strict=True):
        out.setdefault(owner, []).append(code)
    return out


def run_season(
    registry: Registry, run_dir: Path, package_sha256: str, out_dir: Path
) -> dict[str, Any]:
    """Take the run at ``run_dir`` (evidence package hash ``package_sha256``) through the
    registry; writes the certificate PDF and the distribution statement CSV to ``out_dir``."""
    summary = pd.read_json(run_dir / "outputs" / "summary.json", typ="series")
    campaign, removals = summary["campaign"], summary["removals"]
    zero_notice = Registry(
        registry.engine, registry.settings.model_copy(update={"notice_working_days": 0})
    )
    zero_notice.cache = registry.cache
    for code, (name, role) in PARTIES.items():
        create_party(registry, actor="root", code=code, name=name, roles=[role])
    parcels_path = run_dir / "inputs" / "site" / "parcels.geojson"
    households = _households(parcels_path)
    for owner in households:
        create_party(
            registry, actor="root", code=owner, name=f"农户 {owner}", roles=["owner_household"]
        )
    import_parcels(registry, actor="anji-coop", path=parcels_path)
    start = dt.date.fromisoformat(campaign["period_start"])
    crediting_end = dt.date(start.year + 30, start.month, start.day) - dt.timedelta(days=1)
    contracts = []
    for i, (owner, codes) in enumerate(sorted(households.items()), start=1):
        contract = f"{PROJECT}-C{i:03d}"
        create_contract(
            registry,
            actor="anji-coop",
            code=contract,
            cooperative="anji-coop",
            owner=owner,
            parcels=codes,
            start=start - dt.timedelta(days=365),
            end=crediting_end,
            annual_payment_yuan_per_mu="16.926",
            settlement_cycle_years=3,
            owner_share="0.8",
        )
        contracts += [(code, contract) for code in codes]
    create_project(
        registry,
        actor="anji-coop",
        code=PROJECT,
        name="安吉天荒坪毛竹林经营碳汇项目 Anji Tianhuangping moso bamboo management",
        proponent="anji-coop",
        validator="zj-validator",
        methodology_id=summary["methodology"]["id"],
        methodology_version=summary["methodology"]["version"],
        land_type="bamboo",
        crediting_start=start,
        crediting_end=crediting_end,
        risk_score=10,
        parcels=contracts,
    )
    start_public_notice(zero_notice, actor="anji-coop", project=PROJECT)
    register_project(zero_notice, actor="root", project=PROJECT)

    claim = int(removals["claimable_tco2e"])
    parcels = pd.read_csv(run_dir / "outputs" / "parcels.csv", dtype={"parcel_code": str})
    report = submit_report(
        registry,
        actor="anji-coop",
        project=PROJECT,
        period_start=start,
        period_end=dt.date.fromisoformat(campaign["period_end"]),
        evidence_sha256=package_sha256,
        claimed_tco2e=claim,
        parcel_removals=dict(
            zip(parcels["parcel_code"], parcels["removals_tco2e"].astype(float), strict=True)
        ),
    ).result
    seq = int(report["seq"])
    assign_verifier(
        registry, actor="anji-forestry", project=PROJECT, report_seq=seq, verifier="hz-verifier"
    )
    finding = open_finding(
        registry,
        actor="hz-verifier",
        project=PROJECT,
        report_seq=seq,
        kind="CAR",
        text="收获记录缺少采伐许可证号 Harvest records lack the cutting-permit numbers.",
    ).result
    finding_id = int(finding["id"])
    respond_to_finding(
        registry,
        actor="anji-coop",
        finding_id=finding_id,
        response="已补充采伐许可证号 Permit numbers added to the harvest records.",
    )
    close_finding(registry, actor="hz-verifier", finding_id=finding_id)
    issue_statement(
        registry,
        actor="hz-verifier",
        project=PROJECT,
        report_seq=seq,
        opinion="positive",
        verified_tco2e=claim,
        statement="核查通过 Positive: removals verified against the evidence package and re-run.",
    )
    issued = issue(registry, actor="root", project=PROJECT, report_seq=seq).result
    batch = str(issued["batch"])
    lot_quantity = max(1, int(issued["held_tco2e"]) // 2)
    lot = list_lot(
        registry,
        actor="anji-coop",
        account="anji-coop",
        batch=batch,
        quantity=lot_quantity,
        ask_yuan_per_t=ASK_YUAN_PER_T,
    ).result
    settled = settle_lot(
        registry,
        actor="hz-gtc",
        lot=str(lot["lot"]),
        buyer="defendant-001",
        price_yuan_per_t=ASK_YUAN_PER_T,
        fees_yuan="120.00",
        trade_ref="HZGTC-2026-000123",
    ).result
    retired_quantity = min(20, lot_quantity)
    retirement = retire(
        registry,
        actor="defendant-001",
        account="defendant-001",
        batch=batch,
        quantity=retired_quantity,
        purpose="judicial_restoration",
        beneficiary="安吉县天荒坪镇生态修复 Ecological restoration, Tianhuangping",
        case_number="(2026)浙0523刑初88号",
        court="安吉县人民法院 Anji County People's Court",
        payer="某被告人 Defendant in the illegal-logging case",
        restoration_site="安吉县天荒坪镇毛竹林 Tianhuangping bamboo forest",
    ).result
    certificate_no = str(retirement["certificate_no"])
    certificate = out_dir / "certificate.pdf"
    certificate.write_bytes(certificate_pdf(registry, certificate_no))
    dist = distribution_statement(registry, lot=str(lot["lot"]))
    statement = pd.DataFrame(
        [
            {"owner": o["owner"], "parcel": p["parcel"], "due_yuan": p["due_yuan"]}
            for o in dist["owners"]
            for p in o["parcels"]
        ]
    )
    statement_path = out_dir / "distribution.csv"
    statement.to_csv(statement_path, index=False)
    checked = audit(registry)
    return {
        "project": PROJECT,
        "households": len(households),
        "contracts": len(households),
        "parcels": len(contracts),
        "report_seq": seq,
        "claimed_tco2e": claim,
        "verified_tco2e": claim,
        "finding": {"id": finding_id, "kind": "CAR", "status": "closed"},
        "batch": batch,
        "issued_tco2e": issued["quantity_tco2e"],
        "buffer_tco2e": issued["buffer_tco2e"],
        "held_tco2e": issued["held_tco2e"],
        "lot": {
            "code": lot["lot"],
            "quantity_tco2e": lot_quantity,
            "price_yuan_per_t": ASK_YUAN_PER_T,
            "gross_yuan": settled["gross_yuan"],
            "fees_yuan": settled["fees_yuan"],
            "owners_total_yuan": settled["distribution"]["owners_total_yuan"],
            "cooperative_retained_yuan": settled["distribution"]["cooperative_retained_yuan"],
        },
        "retirement": {
            "certificate_no": certificate_no,
            "quantity_tco2e": retired_quantity,
            "purpose": "judicial_restoration",
            "certificate_pdf": str(certificate),
            "certificate_verified": bool(verify_certificate(registry, certificate_no)["ok"]),
        },
        "distribution": {
            "owners": len(dist["owners"]),
            "parcel_lines": len(statement),
            "due_yuan": dist["totals"]["due_yuan"],
            "statement_csv": str(statement_path),
        },
        "audit": {
            k: checked.get(k) for k in ("ok", "invariants_ok", "journal_ok", "events", "problems")
        },
    }


__all__ = ["PARTIES", "PROJECT", "run_season"]
