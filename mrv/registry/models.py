"""Registry tables (SQLAlchemy 2 typed ORM).

The schema is created only by the Alembic migrations in ``mrv/registry/migrations``; a test
checks that they and these classes agree. Credits are whole tonnes of CO2e (integers), money is
kept in integer fen (0.01 yuan) and shown as decimal yuan, shares in basis points (1/10,000).
Constraints written here hold on every backend; PostgreSQL adds an exclusion constraint on serial
ranges and monitoring periods, both backends get triggers that keep credit blocks and the journal
append-only (see the migration).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = (
    "cooperative",
    "owner_household",
    "village_collective",
    "bureau",
    "verifier",
    "trading_centre",
    "buyer",
    "court",
    "admin",
)
LAND_TYPES = ("bamboo", "forest", "wetland", "farmland", "tea")
EXTERNAL_SCHEMES = ("ccer", "forest_carbon_ticket", "zhejiang_forest_inclusive", "vcs", "other")
PROJECT_STATES = ("draft", "public_notice", "registered", "rejected", "deregistered")
REPORT_STATES = ("submitted", "under_verification", "verified", "rejected", "issued")
VERIFICATION_STATES = ("assigned", "positive", "negative")
FINDING_KINDS = ("CAR", "CL", "FAR")
FINDING_STATES = ("open", "responded", "closed")
BLOCK_STATES = ("held", "listed", "retired", "cancelled", "buffer")
LOT_STATES = ("listed", "settled", "withdrawn")
PURPOSES = ("voluntary", "offsetting", "ecological_compensation", "judicial_restoration")
CANCEL_REASONS = ("correction", "reversal", "fraud", "export", "other")
REVERSAL_KINDS = ("reported", "detected")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable names in migrations)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012 - SQLAlchemy reads this mapping
        dict[str, Any]: JSON,
        dt.datetime: DateTime(timezone=True),
    }


class Party(Base):
    """A legal person, household or body taking part in the registry."""

    __tablename__ = "parties"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(64))
    """Unified social credit code (统一社会信用代码) or ID number, as given."""
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)


class ApiToken(Base):
    """An API token of a party: only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    """The token's first characters, to recognise it in listings (never enough to use it)."""
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)
    expires_at: Mapped[dt.datetime | None] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()


class PartyRole(Base):
    """One role a party holds (a party may hold several)."""

    __tablename__ = "party_roles"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class Account(Base):
    """A credit account: a party's holding account or the programme's buffer pool."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(_in("kind", ("holding", "buffer")), name="kind"),
        CheckConstraint("(kind = 'buffer') = (party_id IS NULL)", name="buffer_has_no_party"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)


class Parcel(Base):
    """A land parcel (WGS84 GeoJSON polygon) or an external claim on land."""

    __tablename__ = "parcels"
    __table_args__ = (
        CheckConstraint(_in("land_type", LAND_TYPES), name="land_type"),
        CheckConstraint(
            f"external_scheme IS NULL OR {_in('external_scheme', EXTERNAL_SCHEMES)}",
            name="external_scheme",
        ),
        CheckConstraint("area_ha > 0", name="area_positive"),
        CheckConstraint("min_lon <= max_lon AND min_lat <= max_lat", name="bbox"),
        Index("ix_parcels_bbox", "min_lon", "max_lon", "min_lat", "max_lat"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    owner_party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    land_type: Mapped[str] = mapped_column(String(16))
    land_right_certificate: Mapped[str | None] = mapped_column(String(100))
    area_ha: Mapped[float] = mapped_column(Float)
    area_mu: Mapped[float] = mapped_column(Float)
    geometry: Mapped[dict[str, Any]]
    """GeoJSON geometry in WGS84 (EPSG:4326)."""
    geometry_sha256: Mapped[str] = mapped_column(String(64))
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    external_scheme: Mapped[str | None] = mapped_column(String(32))
    """Set when the parcel is a claim of another scheme (CCER, carbon ticket, 浙林碳普惠 …)."""
    external_ref: Mapped[str | None] = mapped_column(String(100))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)


class CollectionContract(Base):
    """A collection (收储) contract between a cooperative and a parcel owner."""

    __tablename__ = "collection_contracts"
    __table_args__ = (
        CheckConstraint("end_date > start_date", name="term"),
        CheckConstraint("annual_payment_li_per_mu >= 0", name="payment"),
        CheckConstraint("settlement_cycle_years >= 1", name="cycle"),
        CheckConstraint("owner_share_bp BETWEEN 0 AND 10000", name="share"),
        CheckConstraint(_in("status", ("active", "terminated")), name="status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    cooperative_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    owner_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    annual_payment_li_per_mu: Mapped[int] = mapped_column(BigInteger)
    settlement_cycle_years: Mapped[int] = mapped_column(Integer)
    owner_share_bp: Mapped[int] = mapped_column(Integer)
    """Owner's share of net sale proceeds in basis points (Anji: 8000 = 80 %)."""
    status: Mapped[str] = mapped_column(String(16), default="active")
    signed_at: Mapped[dt.datetime] = mapped_column(default=_now)


class ContractParcel(Base):
    """A parcel covered by a collection contract."""

    __tablename__ = "contract_parcels"
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("collection_contracts.id"), primary_key=True
    )
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"), primary_key=True)


class Project(Base):
    """A carbon-sink project: methodology, parcels through contracts, crediting period."""

    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint(_in("status", PROJECT_STATES), name="status"),
        CheckConstraint(_in("land_type", LAND_TYPES), name="land_type"),
        CheckConstraint("crediting_end > crediting_start", name="crediting_period"),
        CheckConstraint("risk_score BETWEEN 0 AND 100", name="risk_score"),
        CheckConstraint("validator_party_id <> proponent_party_id", name="validator_not_proponent"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    proponent_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    validator_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    methodology_id: Mapped[str] = mapped_column(String(64))
    methodology_version: Mapped[str] = mapped_column(String(32))
    land_type: Mapped[str] = mapped_column(String(16))
    crediting_start: Mapped[dt.date] = mapped_column(Date)
    crediting_end: Mapped[dt.date] = mapped_column(Date)
    risk_score: Mapped[int] = mapped_column(Integer)
    """Non-permanence risk score 0–100; the buffer share follows from it."""
    status: Mapped[str] = mapped_column(String(16), default="draft")
    notice_start: Mapped[dt.date | None] = mapped_column(Date)
    notice_end: Mapped[dt.date | None] = mapped_column(Date)
    registered_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)


class ProjectParcel(Base):
    """A parcel in a project through a contract; ``active`` parcels are unique across projects."""

    __tablename__ = "project_parcels"
    __table_args__ = (
        Index(
            "uq_project_parcels_active_parcel",
            "parcel_id",
            unique=True,
            sqlite_where=text("active = 1"),
            postgresql_where=text("active"),
        ),
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"), primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("collection_contracts.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class NoticeComment(Base):
    """A comment received during a project's public notice, and the proponent's response."""

    __tablename__ = "notice_comments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    commenter: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(default=_now)


class MonitoringReport(Base):
    """Claimed removals of a project over a monitoring period, with its evidence package hash."""

    __tablename__ = "monitoring_reports"
    __table_args__ = (
        CheckConstraint(_in("status", REPORT_STATES), name="status"),
        CheckConstraint("period_end >= period_start", name="period"),
        CheckConstraint("claimed_tco2e > 0", name="claimed_positive"),
        UniqueConstraint("project_id", "seq", name="uq_monitoring_reports_project_seq"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    seq: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    evidence_sha256: Mapped[str] = mapped_column(String(64))
    claimed_tco2e: Mapped[int] = mapped_column(BigInteger)
    parcel_removals: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Per-parcel attribution ``{parcel code: t CO2e}``; empty = by parcel area."""
    status: Mapped[str] = mapped_column(String(24), default="submitted")
    submitted_at: Mapped[dt.datetime] = mapped_column(default=_now)


class Verification(Base):
    """The verification of one monitoring report by a verifier, ending in a statement."""

    __tablename__ = "verifications"
    __table_args__ = (
        CheckConstraint(_in("status", VERIFICATION_STATES), name="status"),
        CheckConstraint("verified_tco2e IS NULL OR verified_tco2e >= 0", name="verified"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("monitoring_reports.id"), unique=True)
    verifier_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    status: Mapped[str] = mapped_column(String(16), default="assigned")
    verified_tco2e: Mapped[int | None] = mapped_column(BigInteger)
    statement: Mapped[str | None] = mapped_column(Text)
    statement_at: Mapped[dt.datetime | None]
    assigned_at: Mapped[dt.datetime] = mapped_column(default=_now)


class Finding(Base):
    """A verification finding: corrective action (CAR), clarification (CL) or forward action."""

    __tablename__ = "findings"
    __table_args__ = (
        CheckConstraint(_in("kind", FINDING_KINDS), name="kind"),
        CheckConstraint(_in("status", FINDING_STATES), name="status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    verification_id: Mapped[int] = mapped_column(ForeignKey("verifications.id"))
    kind: Mapped[str] = mapped_column(String(4))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    response: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[dt.datetime] = mapped_column(default=_now)
    closed_at: Mapped[dt.datetime | None]


class Batch(Base):
    """An issuance: the credits of one verified monitoring report (one per report)."""

    __tablename__ = "batches"
    __table_args__ = (
        CheckConstraint("quantity_tco2e > 0", name="quantity_positive"),
        CheckConstraint("buffer_tco2e >= 0 AND buffer_tco2e <= quantity_tco2e", name="buffer"),
        CheckConstraint("buffer_bp BETWEEN 0 AND 10000", name="buffer_bp"),
        UniqueConstraint("project_id", "batch_no", name="uq_batches_project_batch_no"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("monitoring_reports.id"), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    batch_no: Mapped[int] = mapped_column(Integer)
    serial_prefix: Mapped[str] = mapped_column(String(80), unique=True)
    vintage: Mapped[int] = mapped_column(Integer)
    quantity_tco2e: Mapped[int] = mapped_column(BigInteger)
    buffer_tco2e: Mapped[int] = mapped_column(BigInteger)
    buffer_bp: Mapped[int] = mapped_column(Integer)
    risk_score: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[dt.datetime] = mapped_column(default=_now)


class TradingLot(Base):
    """Credits listed at the trading centre: locked while listed, then settled or withdrawn."""

    __tablename__ = "trading_lots"
    __table_args__ = (
        CheckConstraint(_in("status", LOT_STATES), name="status"),
        CheckConstraint("quantity_tco2e > 0", name="quantity_positive"),
        CheckConstraint("ask_fen_per_t >= 0", name="ask"),
        CheckConstraint(
            "(status = 'settled') = (price_fen_per_t IS NOT NULL AND buyer_account_id IS NOT NULL)",
            name="settlement",
        ),
        Index("ix_trading_lots_settled_on", "settled_on"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    seller_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    quantity_tco2e: Mapped[int] = mapped_column(BigInteger)
    ask_fen_per_t: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="listed")
    buyer_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    price_fen_per_t: Mapped[int | None] = mapped_column(BigInteger)
    fees_fen: Mapped[int | None] = mapped_column(BigInteger)
    trade_ref: Mapped[str | None] = mapped_column(String(100))
    """The trading centre's confirmation id."""
    settled_on: Mapped[dt.date | None] = mapped_column(Date)
    listed_at: Mapped[dt.datetime] = mapped_column(default=_now)
    closed_at: Mapped[dt.datetime | None]


class Retirement(Base):
    """Credits retired for a purpose on behalf of a beneficiary, with a certificate."""

    __tablename__ = "retirements"
    __table_args__ = (
        CheckConstraint(_in("purpose", PURPOSES), name="purpose"),
        CheckConstraint("quantity_tco2e > 0", name="quantity_positive"),
        CheckConstraint(
            "purpose <> 'judicial_restoration' OR (case_number IS NOT NULL AND court IS NOT NULL"
            " AND payer IS NOT NULL AND restoration_site IS NOT NULL)",
            name="judicial_fields",
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_no: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    quantity_tco2e: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(32))
    beneficiary: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    case_number: Mapped[str | None] = mapped_column(String(100))
    court: Mapped[str | None] = mapped_column(String(200))
    payer: Mapped[str | None] = mapped_column(String(200))
    restoration_site: Mapped[str | None] = mapped_column(String(200))
    judgment_sha256: Mapped[str | None] = mapped_column(String(64))
    certificate_sha256: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the certificate's canonical content (printed on the certificate)."""
    retired_at: Mapped[dt.datetime] = mapped_column(default=_now)


class Reversal(Base):
    """A loss of stored carbon, compensated by cancelling credits from the buffer pool."""

    __tablename__ = "reversals"
    __table_args__ = (
        CheckConstraint(_in("kind", REVERSAL_KINDS), name="kind"),
        CheckConstraint("loss_tco2e > 0", name="loss_positive"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    kind: Mapped[str] = mapped_column(String(16))
    loss_tco2e: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text)
    reported_at: Mapped[dt.datetime] = mapped_column(default=_now)


class Cancellation(Base):
    """Credits cancelled with a reason (correction, reversal, fraud, export)."""

    __tablename__ = "cancellations"
    __table_args__ = (
        CheckConstraint(_in("reason_code", CANCEL_REASONS), name="reason_code"),
        CheckConstraint("quantity_tco2e > 0", name="quantity_positive"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    quantity_tco2e: Mapped[int] = mapped_column(BigInteger)
    reason_code: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    reversal_id: Mapped[int | None] = mapped_column(ForeignKey("reversals.id"))
    cancelled_at: Mapped[dt.datetime] = mapped_column(default=_now)


class CreditBlock(Base):
    """A contiguous range of serial numbers ``[serial_start, serial_end]`` of one batch.

    Blocks are never edited: a change (transfer, listing, retirement …) deactivates the parent
    (``active`` → false) and inserts children that point to it, so the lineage of every tonne is
    kept. Active blocks of a batch partition ``1 … quantity`` exactly.
    """

    __tablename__ = "credit_blocks"
    __table_args__ = (
        CheckConstraint("serial_start >= 1 AND serial_end >= serial_start", name="range"),
        CheckConstraint("quantity = serial_end - serial_start + 1", name="quantity"),
        CheckConstraint(_in("status", BLOCK_STATES), name="status"),
        CheckConstraint("(status = 'listed') = (lot_id IS NOT NULL)", name="listed_has_lot"),
        CheckConstraint(
            "(status = 'retired') = (retirement_id IS NOT NULL)", name="retired_has_retirement"
        ),
        CheckConstraint(
            "(status = 'cancelled') = (cancellation_id IS NOT NULL)",
            name="cancelled_has_cancellation",
        ),
        Index(
            "ix_credit_blocks_holding",
            "account_id",
            "batch_id",
            "status",
            "serial_start",
            sqlite_where=text("active = 1"),
            postgresql_where=text("active"),
        ),
        Index(
            "ix_credit_blocks_batch_serial",
            "batch_id",
            "serial_start",
            sqlite_where=text("active = 1"),
            postgresql_where=text("active"),
        ),
        Index(
            "ix_credit_blocks_lot",
            "lot_id",
            sqlite_where=text("lot_id IS NOT NULL"),
            postgresql_where=text("active AND lot_id IS NOT NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    serial_start: Mapped[int] = mapped_column(BigInteger)
    serial_end: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    status: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("credit_blocks.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("trading_lots.id"))
    retirement_id: Mapped[int | None] = mapped_column(ForeignKey("retirements.id"))
    cancellation_id: Mapped[int | None] = mapped_column(ForeignKey("cancellations.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)


class Distribution(Base):
    """Benefit distribution of one settled lot: gross, fees, net and payout lines."""

    __tablename__ = "distributions"
    __table_args__ = (CheckConstraint("net_fen = gross_fen - fees_fen", name="net"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("trading_lots.id"), unique=True)
    gross_fen: Mapped[int] = mapped_column(BigInteger)
    fees_fen: Mapped[int] = mapped_column(BigInteger)
    net_fen: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)


class DistributionLine(Base):
    """What one owner receives for one parcel under one contract from a distribution."""

    __tablename__ = "distribution_lines"
    __table_args__ = (
        CheckConstraint("amount_fen >= 0", name="amount"),
        UniqueConstraint(
            "distribution_id", "contract_id", "parcel_id", name="uq_distribution_line"
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    distribution_id: Mapped[int] = mapped_column(ForeignKey("distributions.id"))
    contract_id: Mapped[int] = mapped_column(ForeignKey("collection_contracts.id"))
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"))
    owner_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    parcel_share: Mapped[float] = mapped_column(Float)
    """The parcel's share of the batch's verified removals (0–1)."""
    owner_share_bp: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class Payment(Base):
    """A recorded payment against a distribution line (bank reference as proof)."""

    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("distribution_lines.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    bank_reference: Mapped[str] = mapped_column(String(100))
    paid_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=_now)


class JournalStream(Base):
    """Head of one hash chain of the journal; locking it serialises writes to that stream."""

    __tablename__ = "journal_streams"
    stream: Mapped[str] = mapped_column(String(100), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    head_hash: Mapped[str] = mapped_column(String(64))


class JournalEvent(Base):
    """One append-only journal event; ``hash`` chains it to the previous event of its stream."""

    __tablename__ = "journal_events"
    __table_args__ = (UniqueConstraint("stream", "seq", name="uq_journal_events_stream_seq"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    stream: Mapped[str] = mapped_column(String(100))
    seq: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(100))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any]]
    reason: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
