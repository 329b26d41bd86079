"""Retirement certificates: bilingual HTML and PDF renderings, and their verification.

A certificate renders the retirement record of :func:`mrv.registry.retirement.get_retirement`:
number, date, beneficiary, purpose, quantity, project, methodology, vintage, every serial range
and, for judicial ecological restoration (司法生态修复, registries.md §3.6), the case number,
court, payer and restoration site. It prints the SHA-256 of the canonical content fixed at
retirement; :func:`verify_certificate` recomputes it from the stored record and compares it with
the record and with the hash-chained journal event of the retirement, so an edited record or an
edited stored hash both show. The PDF uses reportlab's built-in CID font ``STSong-Light`` (no
font file) and ``invariant`` mode, so the same certificate renders to the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import jinja2
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select

from mrv.registry.core import Registry
from mrv.registry.journal import event_hash
from mrv.registry.models import JournalEvent, Project
from mrv.registry.retirement import certificate_content, certificate_hash, get_retirement

TEMPLATES = Path(__file__).with_name("templates")
CJK_FONT = "STSong-Light"
GREEN = colors.HexColor("#2e6b3a")
PROGRAMME = ("湖州碳汇登记系统", "Huzhou Carbon Sink Registry")
PURPOSES: dict[str, tuple[str, str]] = {
    "voluntary": ("自愿注销", "Voluntary retirement"),
    "offsetting": ("抵销", "Offsetting"),
    "ecological_compensation": ("生态补偿", "Ecological compensation"),
    "judicial_restoration": ("司法生态修复", "Judicial ecological restoration"),
}
CHINA = dt.timezone(dt.timedelta(hours=8))


def verify_command(certificate_no: str) -> str:
    """The CLI command that verifies a certificate."""
    return f"mrv registry certificate verify {certificate_no}"


def _context(registry: Registry, certificate_no: str) -> dict[str, Any]:
    """The retirement record plus display fields shared by the HTML and PDF renderings."""
    record = get_retirement(registry, certificate_no)
    with registry.read() as conn:
        project_name = conn.execute(
            select(Project.name).where(Project.code == record["project"])
        ).scalar()
    retired_at = dt.datetime.fromisoformat(record["retired_at"].replace("Z", "+00:00"))
    zh, en = PURPOSES[record["purpose"]]
    return {
        "c": record,
        "project_name": project_name,
        "retired_on": retired_at.astimezone(CHINA).date().isoformat(),
        "purpose_zh": zh,
        "purpose_en": en,
        "quantity": f"{record['quantity_tco2e']:,}",
        "programme_zh": PROGRAMME[0],
        "programme_en": PROGRAMME[1],
        "verify_command": verify_command(certificate_no),
        "hashed_fields": ", ".join(certificate_content({})),
    }


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def certificate_html(registry: Registry, certificate_no: str) -> str:
    """A self-contained bilingual HTML certificate (no external CSS, fonts or scripts)."""
    template = _environment().get_template("certificate.html.j2")
    return template.render(**_context(registry, certificate_no))


@cache
def _cjk_font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


ASCII_RUN = re.compile(r"[\x20-\x7e]+")


def _mixed(text: str, latin: str = "Helvetica") -> str:
    """Paragraph markup: ASCII runs in a Latin font, everything else in the CJK font."""
    out, pos = [], 0
    for m in ASCII_RUN.finditer(text):
        if m.start() > pos:
            out.append(escape(text[pos : m.start()]))
        out.append(f'<font name="{latin}">{escape(m.group())}</font>')
        pos = m.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def _styles() -> dict[str, ParagraphStyle]:
    font = _cjk_font()
    base = ParagraphStyle("base", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
    return {
        "title": ParagraphStyle(
            "title", parent=base, fontSize=22, leading=28, alignment=TA_CENTER, textColor=GREEN
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=base, fontSize=12, leading=16, alignment=TA_CENTER
        ),
        "centre": ParagraphStyle("centre", parent=base, alignment=TA_CENTER),
        "label": ParagraphStyle("label", parent=base, fontSize=9.5, leading=12, textColor=GREEN),
        "value": base,
        "mono": ParagraphStyle("mono", parent=base, fontName="Courier", fontSize=7.5, leading=10),
        "head": ParagraphStyle(
            "head", parent=base, fontSize=12, leading=16, textColor=GREEN, spaceBefore=8
        ),
        "warning": ParagraphStyle("warning", parent=base, textColor=colors.HexColor("#b3261e")),
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=12),
    }


def _label(zh: str, en: str, s: dict[str, ParagraphStyle]) -> Paragraph:
    return Paragraph(
        f'{escape(zh)} <font name="Helvetica" size="8" color="#4a5a4d">{escape(en)}</font>',
        s["label"],
    )


def _table(rows: list[tuple[str, str, Any]], s: dict[str, ParagraphStyle]) -> Table:
    data = []
    for zh, en, value in rows:
        cell = value if isinstance(value, Flowable | list) else Paragraph(_mixed(value), s["value"])
        data.append([_label(zh, en, s), cell])
    table = Table(data, colWidths=[58 * mm, 112 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#d7e0d8")),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _frame(canvas: Canvas, doc: Any) -> None:
    canvas.saveState()
    canvas.setStrokeColor(GREEN)
    width, height = A4
    canvas.setLineWidth(1.6)
    canvas.rect(10 * mm, 10 * mm, width - 20 * mm, height - 20 * mm)
    canvas.setLineWidth(0.5)
    canvas.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    canvas.restoreState()


def certificate_pdf(registry: Registry, certificate_no: str) -> bytes:
    """The certificate as a one-page A4 PDF with the same content as the HTML (deterministic)."""
    ctx = _context(registry, certificate_no)
    c, s = ctx["c"], _styles()
    story: list[Flowable] = [
        Paragraph("碳汇注销证明", s["title"]),
        Paragraph(
            '<font name="Helvetica">Carbon Sink Credit Retirement Certificate</font>', s["subtitle"]
        ),
        Paragraph(_mixed(f"{PROGRAMME[0]} {PROGRAMME[1]}"), s["centre"]),
        Spacer(1, 3 * mm),
        Paragraph(
            f'证书编号 <font name="Helvetica">Certificate No. </font>'
            f'<font name="Helvetica-Bold">{escape(c["certificate_no"])}</font>',
            s["centre"],
        ),
        Spacer(1, 4 * mm),
    ]
    if not c["hash_ok"]:
        story.append(
            Paragraph(
                "警告：本证书登记内容与注销时记录的哈希不一致，请勿采信。<br/>"
                '<font name="Helvetica">Warning: the registered content no longer matches the '
                "hash recorded at retirement. Do not rely on this certificate.</font>",
                s["warning"],
            )
        )
    project = c["project"] + (f" — {ctx['project_name']}" if ctx["project_name"] else "")
    rows: list[tuple[str, str, Any]] = [
        ("注销日期", "Date of retirement", f"{ctx['retired_on']} (UTC {c['retired_at']})"),
        ("受益方", "Beneficiary", c["beneficiary"]),
        ("注销用途", "Purpose", f"{ctx['purpose_zh']} {ctx['purpose_en']}"),
    ]
    if c["reason"]:
        rows.append(("说明", "Reason", c["reason"]))
    rows += [
        ("注销数量", "Quantity retired", f"{ctx['quantity']} 吨二氧化碳当量 t CO2e"),
        ("注销账户", "Retiring account", c["account"]),
        ("项目", "Project", project),
        ("方法学", "Methodology", c["methodology"]),
        ("年份", "Vintage", str(c["vintage"])),
        ("批次", "Issuance batch", c["batch"]),
        ("序列号", "Serial numbers", [Paragraph(escape(x), s["mono"]) for x in c["serials"]]),
    ]
    story.append(_table(rows, s))
    if c["purpose"] == "judicial_restoration":
        story.append(
            Paragraph(
                '司法生态修复 <font name="Helvetica">Judicial ecological restoration</font>',
                s["head"],
            )
        )
        judicial: list[tuple[str, str, Any]] = [
            ("案号", "Case number", c["case_number"]),
            ("法院/检察院", "Court or procuratorate", c["court"]),
            ("缴纳人", "Payer", c["payer"]),
            ("修复地点", "Restoration site", c["restoration_site"]),
        ]
        if c["judgment_sha256"]:
            judicial.append(
                (
                    "裁判文书 SHA-256",
                    "Judgment SHA-256",
                    Paragraph(escape(c["judgment_sha256"]), s["mono"]),
                )
            )
        story.append(_table(judicial, s))
    command = escape(ctx["verify_command"])
    story += [
        Spacer(1, 6 * mm),
        Paragraph(
            '证书内容 SHA-256 <font name="Helvetica">SHA-256 of the certificate content:</font>',
            s["label"],
        ),
        Paragraph(escape(c["certificate_sha256"]), s["mono"]),
        Spacer(1, 3 * mm),
        Paragraph(
            f'核验方法：运行 <font name="Courier">{command}</font>，登记系统将按上列内容'
            "（UTF-8 规范 JSON，键名排序）重新计算哈希并与注销时的登记记录及日志比对。",
            s["small"],
        ),
        Paragraph(
            f'<font name="Helvetica">To verify, run </font><font name="Courier">{command}</font>'
            '<font name="Helvetica">: the registry recomputes the SHA-256 of the content above '
            f"(canonical UTF-8 JSON with sorted keys: {escape(ctx['hashed_fields'])}) and "
            "compares it with the hash recorded at retirement and in the hash-chained "
            "journal.</font>",
            s["small"],
        ),
    ]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=f"碳汇注销证明 Retirement Certificate {c['certificate_no']}",
        author=f"{PROGRAMME[0]} {PROGRAMME[1]}",
        subject=c["certificate_sha256"],
        creator="huzhou-mrv",
        invariant=1,
    )
    doc.build(story, onFirstPage=_frame, onLaterPages=_frame)
    return buffer.getvalue()


def verify_certificate(registry: Registry, certificate_no: str) -> dict[str, Any]:
    """Recompute a certificate's hash and compare it with the record and the journal.

    ``hash_ok``: the stored content still hashes to the stored certificate hash.
    ``journal_ok``: the retirement's journal event is intact (its own hash recomputes) and
    records the same certificate hash. ``ok`` is both.
    """
    record = get_retirement(registry, certificate_no)
    recomputed = certificate_hash(record)
    with registry.read() as conn:
        event = conn.execute(
            select(JournalEvent).where(
                JournalEvent.operation == "retire",
                JournalEvent.entity_type == "retirement",
                JournalEvent.entity_id == certificate_no,
            )
        ).first()
    journal_sha = None
    event_ok = False
    event_ref = None
    if event is not None:
        journal_sha = (event.after or {}).get("certificate_sha256")
        event_ok = event_hash(dict(event._mapping)) == event.hash
        event_ref = {"stream": event.stream, "seq": event.seq, "hash": event.hash}
    journal_ok = event_ok and journal_sha == record["certificate_sha256"]
    hash_ok = recomputed == record["certificate_sha256"]
    return {
        "certificate_no": certificate_no,
        "certificate_sha256": record["certificate_sha256"],
        "recomputed_sha256": recomputed,
        "hash_ok": hash_ok,
        "journal_sha256": journal_sha,
        "journal_event": event_ref,
        "journal_ok": journal_ok,
        "ok": hash_ok and journal_ok,
        "content": certificate_content(record),
    }
