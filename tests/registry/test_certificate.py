"""Retirement certificates: HTML and PDF renderings, hash verification and tampering."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import zlib
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import text, update

from mrv.errors import ForbiddenError
from mrv.registry.certificate import certificate_html, certificate_pdf, verify_certificate
from mrv.registry.core import Registry
from mrv.registry.credits import transfer
from mrv.registry.models import Retirement
from mrv.registry.queries import holdings, journal
from mrv.registry.retirement import retire
from tests.registry.builders import ADMIN, ensure_party, issued_batch

CASE = "(2025)浙0522刑初123号"
COURT = "长兴县人民法院"
PAYER = "张某"
SITE = "长兴县水口乡顾渚村"
JUDGMENT = "ab" * 32
PREFIX = "HZ-BAM-AJ001-2024-001"


class Texts(HTMLParser):
    """Text of every element with an ``id`` (including nested text), and the serial list items."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: dict[str, str] = {}
        self.serials: list[str] = []
        self.tags: list[str] = []
        self._open: list[str | None] = []
        self._li: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in ("meta", "br", "link", "img"):
            return
        ident = dict(attrs).get("id")
        self._open.append(ident)
        if ident:
            self.texts[ident] = ""
        if tag == "li" and "serials" in self._open:
            self._li = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "li" and self._li is not None:
            self.serials.append("".join(self._li).strip())
            self._li = None
        self._open.pop()

    def handle_data(self, data: str) -> None:
        for ident in self._open:
            if ident:
                self.texts[ident] += data
        if self._li is not None:
            self._li.append(data)


def parse(html: str) -> Texts:
    parser = Texts()
    parser.feed(html)
    parser.close()
    parser.texts = {k: " ".join(v.split()) for k, v in parser.texts.items()}
    return parser


def pdf_text(pdf: bytes) -> str:
    """Text shown by the page content streams (ASCII85 + Flate), CID font strings as UCS-2."""
    cid_fonts = {
        name.group(1).decode()
        for obj in pdf.split(b"endobj")
        if b"/BaseFont /STSong-Light" in obj and (name := re.search(rb"/Name /(F\d+)", obj))
    }
    shown = []
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        content = zlib.decompress(base64.a85decode(m.group(1).strip(), adobe=True)).decode(
            "latin-1"
        )
        font = ""
        for token in re.finditer(r"/(F\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj|ET", content):
            if token.group(1):
                font = token.group(1)
            elif token.group(0) == "ET":
                shown.append("\n")
            else:
                raw = re.sub(
                    r"\\([0-7]{1,3}|.)",
                    lambda e: (
                        chr(int(e.group(1), 8)) if e.group(1)[0] in "01234567" else e.group(1)
                    ),
                    token.group(2),
                ).encode("latin-1")
                shown.append(raw.decode("utf-16-be" if font in cid_fonts else "latin-1"))
    return "".join(shown)


@pytest.fixture
def retired(registry: Registry) -> dict[str, Any]:
    """A voluntary and a judicial-restoration retirement; the latter spans two serial ranges."""
    built = issued_batch(registry, verified=1000)  # held 1–900, buffer 901–1000
    coop, buyer = built["cooperative"], built["buyer"]
    transfer(registry, actor=coop, from_account=coop, to_account=buyer, batch=PREFIX, quantity=100)
    transfer(registry, actor=buyer, from_account=buyer, to_account=coop, batch=PREFIX, quantity=50)
    # the cooperative now holds 1–50 and 101–900
    judicial = retire(
        registry,
        actor=coop,
        account=coop,
        batch=PREFIX,
        quantity=80,
        purpose="judicial_restoration",
        beneficiary="长兴县水口乡顾渚村生态修复",
        reason="滥伐林木案替代性修复 (substitute restoration)",
        case_number=CASE,
        court=COURT,
        payer=PAYER,
        restoration_site=SITE,
        judgment_sha256=JUDGMENT,
    )
    voluntary = retire(
        registry,
        actor=buyer,
        account=buyer,
        batch=PREFIX,
        quantity=50,
        purpose="voluntary",
        beneficiary='Huzhou <Green> & "Co." 湖州绿色公司',
    )
    return {"built": built, "judicial": judicial.result, "voluntary": voluntary.result}


def _expected_hash(result: dict[str, Any]) -> str:
    """The certificate hash recomputed here from the canonical content (sorted-key UTF-8 JSON)."""
    content = {k: v for k, v in result.items() if k != "certificate_sha256"}
    data = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def test_judicial_certificate_html(registry: Registry, retired: dict[str, Any]) -> None:
    cert = retired["judicial"]
    assert cert["serials"] == [f"{PREFIX}-000000001-000000050", f"{PREFIX}-000000101-000000130"]
    assert cert["certificate_sha256"] == _expected_hash(cert)
    html = certificate_html(registry, cert["certificate_no"])
    page = parse(html)
    t = page.texts
    assert t["certificate-no"] == cert["certificate_no"]
    assert t["date"].startswith("2026-03-02 (UTC 2026-03-02T")
    assert t["beneficiary"] == "长兴县水口乡顾渚村生态修复"
    assert t["purpose"] == "司法生态修复 Judicial ecological restoration"
    assert t["reason"] == "滥伐林木案替代性修复 (substitute restoration)"
    assert t["quantity"] == "80 吨二氧化碳当量 t CO₂e"
    assert t["project"] == "AJ001 — 安吉毛竹林碳汇项目 AJ001"
    assert t["methodology"] == "HZ-BAMBOO-AR 1.0"
    assert t["vintage"] == "2024"
    assert t["batch"] == PREFIX
    assert page.serials == cert["serials"]
    assert (t["case-number"], t["court"], t["payer"], t["restoration-site"]) == (
        CASE,
        COURT,
        PAYER,
        SITE,
    )
    assert t["judgment-sha256"] == JUDGMENT
    assert t["certificate-sha256"] == cert["certificate_sha256"]
    assert f"mrv registry certificate verify {cert['certificate_no']}" in html
    assert "hash-warning" not in t
    # self-contained: no scripts, links, external resources
    assert not {"script", "link", "img", "iframe"} & set(page.tags)
    assert not re.search(r"(src|href)=|@import|url\(|https?://", html)


def test_voluntary_certificate_html_escapes(registry: Registry, retired: dict[str, Any]) -> None:
    cert = retired["voluntary"]
    assert cert["serials"] == [f"{PREFIX}-000000051-000000100"]
    html = certificate_html(registry, cert["certificate_no"])
    page = parse(html)
    assert page.texts["beneficiary"] == 'Huzhou <Green> & "Co." 湖州绿色公司'
    assert "Huzhou &lt;Green&gt; &amp; &#34;Co.&#34;" in html
    assert page.texts["purpose"] == "自愿注销 Voluntary retirement"
    assert "case-number" not in page.texts and "judicial" not in page.texts
    assert page.serials == cert["serials"]


def test_certificate_pdf(registry: Registry, retired: dict[str, Any]) -> None:
    cert = retired["judicial"]
    no = cert["certificate_no"]
    pdf = certificate_pdf(registry, no)
    assert pdf.startswith(b"%PDF-")
    assert certificate_pdf(registry, no) == pdf  # deterministic
    assert b"/BaseFont /STSong-Light" in pdf and b"UniGB-UCS2-H" in pdf
    shown = pdf_text(pdf)
    for expected in (no, "碳汇注销证明", CASE, COURT, PAYER, SITE, cert["certificate_sha256"],
                     *cert["serials"], "长兴县水口乡顾渚村生态修复", "司法生态修复"):  # fmt: skip
        assert expected in shown, expected
    if shutil.which("pdftotext"):  # poppler, when installed, must read the same text
        out = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        assert no in out and cert["certificate_sha256"] in out


def test_verify_and_tampering(registry: Registry, retired: dict[str, Any]) -> None:
    cert = retired["judicial"]
    no = cert["certificate_no"]
    ok = verify_certificate(registry, no)
    assert ok["hash_ok"] and ok["journal_ok"] and ok["ok"]
    assert ok["certificate_sha256"] == ok["recomputed_sha256"] == cert["certificate_sha256"]
    assert ok["journal_event"]["stream"] == "account:anji-coop"

    with registry.engine.begin() as conn:
        conn.execute(
            update(Retirement).where(Retirement.certificate_no == no).values(beneficiary="某公司")
        )
    bad = verify_certificate(registry, no)
    assert not bad["hash_ok"] and not bad["ok"]
    assert bad["recomputed_sha256"] != cert["certificate_sha256"]
    assert bad["content"]["beneficiary"] == "某公司"
    page = parse(certificate_html(registry, no))
    assert "hash-warning" in page.texts and page.texts["beneficiary"] == "某公司"

    # re-hashing the edited record does not help: the journal still holds the original hash
    with registry.engine.begin() as conn:
        conn.execute(
            text("UPDATE retirements SET certificate_sha256 = :h WHERE certificate_no = :n"),
            {"h": bad["recomputed_sha256"], "n": no},
        )
    rehashed = verify_certificate(registry, no)
    assert rehashed["hash_ok"] and not rehashed["journal_ok"] and not rehashed["ok"]
    assert rehashed["journal_sha256"] == cert["certificate_sha256"]
    # the other certificate is untouched
    assert verify_certificate(registry, retired["voluntary"]["certificate_no"])["ok"]


def test_a_court_files_a_judicial_restoration_for_the_payer(registry: Registry) -> None:
    """Only a court retires another account's credits, and only for judicial restoration; the
    certificate names the payer's account and the journal event the court as actor."""
    built = issued_batch(registry, verified=1000)
    payer = built["buyer"]
    transfer(registry, actor=built["cooperative"], from_account=built["cooperative"],
             to_account=payer, batch=PREFIX, quantity=100)  # fmt: skip
    ensure_party(registry, "court-aj", "安吉县人民法院", ["court"])
    ensure_party(registry, "bureau-aj", "安吉县林业局", ["bureau"])
    judicial = {
        "batch": PREFIX,
        "purpose": "judicial_restoration",
        "beneficiary": "西苕溪湿地生态修复",
        "case_number": CASE,
        "court": COURT,
        "payer": PAYER,
        "restoration_site": SITE,
    }
    before = holdings(registry, payer)["total"]
    for actor, purpose in (("bureau-aj", "judicial_restoration"), (ADMIN, "judicial_restoration"),
                           ("court-aj", "voluntary")):  # fmt: skip
        with pytest.raises(ForbiddenError):
            retire(registry, actor=actor, account=payer, quantity=5,
                   **{**judicial, "purpose": purpose})  # fmt: skip
    assert holdings(registry, payer)["total"] == before
    done = retire(registry, actor="court-aj", account=payer, quantity=30, **judicial)
    assert done.result["account"] == payer and done.result["quantity_tco2e"] == 30
    after = holdings(registry, payer)["total"]
    assert (after["held"], after["retired"]) == (before["held"] - 30, before["retired"] + 30)
    event = journal(registry, stream=f"account:{payer}", limit=1000)["items"][-1]
    assert event["actor"] == "court-aj" and event["operation"] == "retire"
