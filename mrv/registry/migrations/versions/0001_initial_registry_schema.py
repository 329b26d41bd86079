"""Initial registry schema: tables, PostgreSQL exclusion constraints, append-only triggers.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-24 13:26:48.869959
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "journal_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("stream", sa.String(length=100), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=100), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_events")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_journal_events_idempotency_key")),
        sa.UniqueConstraint("stream", "seq", name="uq_journal_events_stream_seq"),
    )
    op.create_table(
        "journal_streams",
        sa.Column("stream", sa.String(length=100), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("stream", name=op.f("pk_journal_streams")),
    )
    op.create_table(
        "parties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties")),
        sa.UniqueConstraint("code", name=op.f("uq_parties_code")),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'buffer') = (party_id IS NULL)", name=op.f("ck_accounts_buffer_has_no_party")
        ),
        sa.CheckConstraint("kind IN ('holding', 'buffer')", name=op.f("ck_accounts_kind")),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_accounts_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("code", name=op.f("uq_accounts_code")),
        sa.UniqueConstraint("party_id", name=op.f("uq_accounts_party_id")),
    )
    op.create_table(
        "collection_contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("cooperative_party_id", sa.Integer(), nullable=False),
        sa.Column("owner_party_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("annual_payment_li_per_mu", sa.BigInteger(), nullable=False),
        sa.Column("settlement_cycle_years", sa.Integer(), nullable=False),
        sa.Column("owner_share_bp", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'terminated')", name=op.f("ck_collection_contracts_status")
        ),
        sa.CheckConstraint(
            "annual_payment_li_per_mu >= 0", name=op.f("ck_collection_contracts_payment")
        ),
        sa.CheckConstraint("end_date > start_date", name=op.f("ck_collection_contracts_term")),
        sa.CheckConstraint(
            "owner_share_bp BETWEEN 0 AND 10000", name=op.f("ck_collection_contracts_share")
        ),
        sa.CheckConstraint(
            "settlement_cycle_years >= 1", name=op.f("ck_collection_contracts_cycle")
        ),
        sa.ForeignKeyConstraint(
            ["cooperative_party_id"],
            ["parties.id"],
            name=op.f("fk_collection_contracts_cooperative_party_id_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_party_id"],
            ["parties.id"],
            name=op.f("fk_collection_contracts_owner_party_id_parties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_contracts")),
        sa.UniqueConstraint("code", name=op.f("uq_collection_contracts_code")),
    )
    op.create_table(
        "parcels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("owner_party_id", sa.Integer(), nullable=True),
        sa.Column("land_type", sa.String(length=16), nullable=False),
        sa.Column("land_right_certificate", sa.String(length=100), nullable=True),
        sa.Column("area_ha", sa.Float(), nullable=False),
        sa.Column("area_mu", sa.Float(), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("geometry_sha256", sa.String(length=64), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("external_scheme", sa.String(length=32), nullable=True),
        sa.Column("external_ref", sa.String(length=100), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "external_scheme IS NULL OR external_scheme IN ('ccer', 'forest_carbon_ticket', 'zhejiang_forest_inclusive', 'vcs', 'other')",
            name=op.f("ck_parcels_external_scheme"),
        ),
        sa.CheckConstraint(
            "land_type IN ('bamboo', 'forest', 'wetland', 'farmland', 'tea')",
            name=op.f("ck_parcels_land_type"),
        ),
        sa.CheckConstraint("area_ha > 0", name=op.f("ck_parcels_area_positive")),
        sa.CheckConstraint(
            "min_lon <= max_lon AND min_lat <= max_lat", name=op.f("ck_parcels_bbox")
        ),
        sa.ForeignKeyConstraint(
            ["owner_party_id"], ["parties.id"], name=op.f("fk_parcels_owner_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parcels")),
        sa.UniqueConstraint("code", name=op.f("uq_parcels_code")),
    )
    with op.batch_alter_table("parcels", schema=None) as batch_op:
        batch_op.create_index(
            "ix_parcels_bbox", ["min_lon", "max_lon", "min_lat", "max_lat"], unique=False
        )

    op.create_table(
        "party_roles",
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "role IN ('cooperative', 'owner_household', 'village_collective', 'bureau', 'verifier', 'trading_centre', 'buyer', 'court', 'admin')",
            name=op.f("ck_party_roles_role"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_party_roles_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("party_id", "role", name=op.f("pk_party_roles")),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("proponent_party_id", sa.Integer(), nullable=False),
        sa.Column("validator_party_id", sa.Integer(), nullable=False),
        sa.Column("methodology_id", sa.String(length=64), nullable=False),
        sa.Column("methodology_version", sa.String(length=32), nullable=False),
        sa.Column("land_type", sa.String(length=16), nullable=False),
        sa.Column("crediting_start", sa.Date(), nullable=False),
        sa.Column("crediting_end", sa.Date(), nullable=False),
        sa.Column("risk_score", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notice_start", sa.Date(), nullable=True),
        sa.Column("notice_end", sa.Date(), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "land_type IN ('bamboo', 'forest', 'wetland', 'farmland', 'tea')",
            name=op.f("ck_projects_land_type"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'public_notice', 'registered', 'rejected', 'deregistered')",
            name=op.f("ck_projects_status"),
        ),
        sa.CheckConstraint(
            "crediting_end > crediting_start", name=op.f("ck_projects_crediting_period")
        ),
        sa.CheckConstraint("risk_score BETWEEN 0 AND 100", name=op.f("ck_projects_risk_score")),
        sa.CheckConstraint(
            "validator_party_id <> proponent_party_id",
            name=op.f("ck_projects_validator_not_proponent"),
        ),
        sa.ForeignKeyConstraint(
            ["proponent_party_id"],
            ["parties.id"],
            name=op.f("fk_projects_proponent_party_id_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["validator_party_id"],
            ["parties.id"],
            name=op.f("fk_projects_validator_party_id_parties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("code", name=op.f("uq_projects_code")),
    )
    op.create_table(
        "contract_parcels",
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["collection_contracts.id"],
            name=op.f("fk_contract_parcels_contract_id_collection_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["parcel_id"], ["parcels.id"], name=op.f("fk_contract_parcels_parcel_id_parcels")
        ),
        sa.PrimaryKeyConstraint("contract_id", "parcel_id", name=op.f("pk_contract_parcels")),
    )
    op.create_table(
        "monitoring_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=False),
        sa.Column("claimed_tco2e", sa.BigInteger(), nullable=False),
        sa.Column("parcel_removals", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('submitted', 'under_verification', 'verified', 'rejected', 'issued')",
            name=op.f("ck_monitoring_reports_status"),
        ),
        sa.CheckConstraint(
            "claimed_tco2e > 0", name=op.f("ck_monitoring_reports_claimed_positive")
        ),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_monitoring_reports_period")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_monitoring_reports_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_reports")),
        sa.UniqueConstraint("project_id", "seq", name="uq_monitoring_reports_project_seq"),
    )
    op.create_table(
        "notice_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("commenter", sa.String(length=200), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_notice_comments_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_comments")),
    )
    op.create_table(
        "project_parcels",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["collection_contracts.id"],
            name=op.f("fk_project_parcels_contract_id_collection_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["parcel_id"], ["parcels.id"], name=op.f("fk_project_parcels_parcel_id_parcels")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_parcels_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("project_id", "parcel_id", name=op.f("pk_project_parcels")),
    )
    with op.batch_alter_table("project_parcels", schema=None) as batch_op:
        batch_op.create_index(
            "uq_project_parcels_active_parcel",
            ["parcel_id"],
            unique=True,
            sqlite_where=sa.text("active = 1"),
            postgresql_where=sa.text("active"),
        )

    op.create_table(
        "reversals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("loss_tco2e", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('reported', 'detected')", name=op.f("ck_reversals_kind")),
        sa.CheckConstraint("loss_tco2e > 0", name=op.f("ck_reversals_loss_positive")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_reversals_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reversals")),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("batch_no", sa.Integer(), nullable=False),
        sa.Column("serial_prefix", sa.String(length=80), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=False),
        sa.Column("quantity_tco2e", sa.BigInteger(), nullable=False),
        sa.Column("buffer_tco2e", sa.BigInteger(), nullable=False),
        sa.Column("buffer_bp", sa.Integer(), nullable=False),
        sa.Column("risk_score", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("buffer_bp BETWEEN 0 AND 10000", name=op.f("ck_batches_buffer_bp")),
        sa.CheckConstraint(
            "buffer_tco2e >= 0 AND buffer_tco2e <= quantity_tco2e", name=op.f("ck_batches_buffer")
        ),
        sa.CheckConstraint("quantity_tco2e > 0", name=op.f("ck_batches_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_batches_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["monitoring_reports.id"],
            name=op.f("fk_batches_report_id_monitoring_reports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
        sa.UniqueConstraint("project_id", "batch_no", name="uq_batches_project_batch_no"),
        sa.UniqueConstraint("report_id", name=op.f("uq_batches_report_id")),
        sa.UniqueConstraint("serial_prefix", name=op.f("uq_batches_serial_prefix")),
    )
    op.create_table(
        "verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("verifier_party_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("verified_tco2e", sa.BigInteger(), nullable=True),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("statement_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('assigned', 'positive', 'negative')", name=op.f("ck_verifications_status")
        ),
        sa.CheckConstraint(
            "verified_tco2e IS NULL OR verified_tco2e >= 0", name=op.f("ck_verifications_verified")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["monitoring_reports.id"],
            name=op.f("fk_verifications_report_id_monitoring_reports"),
        ),
        sa.ForeignKeyConstraint(
            ["verifier_party_id"],
            ["parties.id"],
            name=op.f("fk_verifications_verifier_party_id_parties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verifications")),
        sa.UniqueConstraint("report_id", name=op.f("uq_verifications_report_id")),
    )
    op.create_table(
        "cancellations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("quantity_tco2e", sa.BigInteger(), nullable=False),
        sa.Column("reason_code", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reversal_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "reason_code IN ('correction', 'reversal', 'fraud', 'export', 'other')",
            name=op.f("ck_cancellations_reason_code"),
        ),
        sa.CheckConstraint("quantity_tco2e > 0", name=op.f("ck_cancellations_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_cancellations_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_cancellations_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["reversal_id"], ["reversals.id"], name=op.f("fk_cancellations_reversal_id_reversals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cancellations")),
    )
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("verification_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('CAR', 'CL', 'FAR')", name=op.f("ck_findings_kind")),
        sa.CheckConstraint(
            "status IN ('open', 'responded', 'closed')", name=op.f("ck_findings_status")
        ),
        sa.ForeignKeyConstraint(
            ["verification_id"],
            ["verifications.id"],
            name=op.f("fk_findings_verification_id_verifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
    )
    op.create_table(
        "retirements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_no", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("quantity_tco2e", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("beneficiary", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("case_number", sa.String(length=100), nullable=True),
        sa.Column("court", sa.String(length=200), nullable=True),
        sa.Column("payer", sa.String(length=200), nullable=True),
        sa.Column("restoration_site", sa.String(length=200), nullable=True),
        sa.Column("judgment_sha256", sa.String(length=64), nullable=True),
        sa.Column("certificate_sha256", sa.String(length=64), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "purpose <> 'judicial_restoration' OR (case_number IS NOT NULL AND court IS NOT NULL AND payer IS NOT NULL AND restoration_site IS NOT NULL)",
            name=op.f("ck_retirements_judicial_fields"),
        ),
        sa.CheckConstraint(
            "purpose IN ('voluntary', 'offsetting', 'ecological_compensation', 'judicial_restoration')",
            name=op.f("ck_retirements_purpose"),
        ),
        sa.CheckConstraint("quantity_tco2e > 0", name=op.f("ck_retirements_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_retirements_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_retirements_batch_id_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retirements")),
        sa.UniqueConstraint("certificate_no", name=op.f("uq_retirements_certificate_no")),
    )
    op.create_table(
        "trading_lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("seller_account_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("quantity_tco2e", sa.BigInteger(), nullable=False),
        sa.Column("ask_fen_per_t", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("buyer_account_id", sa.Integer(), nullable=True),
        sa.Column("price_fen_per_t", sa.BigInteger(), nullable=True),
        sa.Column("fees_fen", sa.BigInteger(), nullable=True),
        sa.Column("trade_ref", sa.String(length=100), nullable=True),
        sa.Column("settled_on", sa.Date(), nullable=True),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'settled') = (price_fen_per_t IS NOT NULL AND buyer_account_id IS NOT NULL)",
            name=op.f("ck_trading_lots_settlement"),
        ),
        sa.CheckConstraint(
            "status IN ('listed', 'settled', 'withdrawn')", name=op.f("ck_trading_lots_status")
        ),
        sa.CheckConstraint("ask_fen_per_t >= 0", name=op.f("ck_trading_lots_ask")),
        sa.CheckConstraint("quantity_tco2e > 0", name=op.f("ck_trading_lots_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_trading_lots_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["buyer_account_id"],
            ["accounts.id"],
            name=op.f("fk_trading_lots_buyer_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["seller_account_id"],
            ["accounts.id"],
            name=op.f("fk_trading_lots_seller_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trading_lots")),
        sa.UniqueConstraint("code", name=op.f("uq_trading_lots_code")),
    )
    with op.batch_alter_table("trading_lots", schema=None) as batch_op:
        batch_op.create_index("ix_trading_lots_settled_on", ["settled_on"], unique=False)

    op.create_table(
        "credit_blocks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("serial_start", sa.BigInteger(), nullable=False),
        sa.Column("serial_end", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("retirement_id", sa.Integer(), nullable=True),
        sa.Column("cancellation_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(status = 'cancelled') = (cancellation_id IS NOT NULL)",
            name=op.f("ck_credit_blocks_cancelled_has_cancellation"),
        ),
        sa.CheckConstraint(
            "(status = 'listed') = (lot_id IS NOT NULL)",
            name=op.f("ck_credit_blocks_listed_has_lot"),
        ),
        sa.CheckConstraint(
            "(status = 'retired') = (retirement_id IS NOT NULL)",
            name=op.f("ck_credit_blocks_retired_has_retirement"),
        ),
        sa.CheckConstraint(
            "status IN ('held', 'listed', 'retired', 'cancelled', 'buffer')",
            name=op.f("ck_credit_blocks_status"),
        ),
        sa.CheckConstraint(
            "quantity = serial_end - serial_start + 1", name=op.f("ck_credit_blocks_quantity")
        ),
        sa.CheckConstraint(
            "serial_start >= 1 AND serial_end >= serial_start", name=op.f("ck_credit_blocks_range")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_credit_blocks_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_credit_blocks_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["cancellation_id"],
            ["cancellations.id"],
            name=op.f("fk_credit_blocks_cancellation_id_cancellations"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["trading_lots.id"], name=op.f("fk_credit_blocks_lot_id_trading_lots")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["credit_blocks.id"],
            name=op.f("fk_credit_blocks_parent_id_credit_blocks"),
        ),
        sa.ForeignKeyConstraint(
            ["retirement_id"],
            ["retirements.id"],
            name=op.f("fk_credit_blocks_retirement_id_retirements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_blocks")),
    )
    with op.batch_alter_table("credit_blocks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_credit_blocks_batch_serial",
            ["batch_id", "serial_start"],
            unique=False,
            sqlite_where=sa.text("active = 1"),
            postgresql_where=sa.text("active"),
        )
        batch_op.create_index(
            "ix_credit_blocks_holding",
            ["account_id", "batch_id", "status", "serial_start"],
            unique=False,
            sqlite_where=sa.text("active = 1"),
            postgresql_where=sa.text("active"),
        )
        batch_op.create_index(
            "ix_credit_blocks_lot",
            ["lot_id"],
            unique=False,
            sqlite_where=sa.text("lot_id IS NOT NULL"),
            postgresql_where=sa.text("active AND lot_id IS NOT NULL"),
        )

    op.create_table(
        "distributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("gross_fen", sa.BigInteger(), nullable=False),
        sa.Column("fees_fen", sa.BigInteger(), nullable=False),
        sa.Column("net_fen", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("net_fen = gross_fen - fees_fen", name=op.f("ck_distributions_net")),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["trading_lots.id"], name=op.f("fk_distributions_lot_id_trading_lots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distributions")),
        sa.UniqueConstraint("lot_id", name=op.f("uq_distributions_lot_id")),
    )
    op.create_table(
        "distribution_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("distribution_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=False),
        sa.Column("owner_party_id", sa.Integer(), nullable=False),
        sa.Column("parcel_share", sa.Float(), nullable=False),
        sa.Column("owner_share_bp", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_distribution_lines_amount")),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["collection_contracts.id"],
            name=op.f("fk_distribution_lines_contract_id_collection_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["distribution_id"],
            ["distributions.id"],
            name=op.f("fk_distribution_lines_distribution_id_distributions"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_party_id"],
            ["parties.id"],
            name=op.f("fk_distribution_lines_owner_party_id_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["parcel_id"], ["parcels.id"], name=op.f("fk_distribution_lines_parcel_id_parcels")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distribution_lines")),
        sa.UniqueConstraint(
            "distribution_id", "contract_id", "parcel_id", name="uq_distribution_line"
        ),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("bank_reference", sa.String(length=100), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_payments_amount_positive")),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["distribution_lines.id"],
            name=op.f("fk_payments_line_id_distribution_lines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )

    _guards()
    _seed()


def downgrade() -> None:
    """Revert this revision."""
    _drop_guards()
    op.drop_table("payments")
    op.drop_table("distribution_lines")
    op.drop_table("distributions")
    with op.batch_alter_table("credit_blocks", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_blocks_lot")
        batch_op.drop_index(
            "ix_credit_blocks_holding",
            sqlite_where=sa.text("active = 1"),
            postgresql_where=sa.text("active"),
        )
        batch_op.drop_index(
            "ix_credit_blocks_batch_serial",
            sqlite_where=sa.text("active = 1"),
            postgresql_where=sa.text("active"),
        )

    op.drop_table("credit_blocks")
    with op.batch_alter_table("trading_lots", schema=None) as batch_op:
        batch_op.drop_index("ix_trading_lots_settled_on")

    op.drop_table("trading_lots")
    op.drop_table("retirements")
    op.drop_table("findings")
    op.drop_table("cancellations")
    op.drop_table("verifications")
    op.drop_table("batches")
    op.drop_table("reversals")
    with op.batch_alter_table("project_parcels", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_project_parcels_active_parcel",
            sqlite_where=sa.text("active = 1"),
            postgresql_where=sa.text("active"),
        )

    op.drop_table("project_parcels")
    op.drop_table("notice_comments")
    op.drop_table("monitoring_reports")
    op.drop_table("contract_parcels")
    op.drop_table("projects")
    op.drop_table("party_roles")
    with op.batch_alter_table("parcels", schema=None) as batch_op:
        batch_op.drop_index("ix_parcels_bbox")

    op.drop_table("parcels")
    op.drop_table("collection_contracts")
    op.drop_table("accounts")
    op.drop_table("parties")
    op.drop_table("journal_streams")
    op.drop_table("journal_events")


_BLOCK_FIELDS = (
    "batch_id",
    "serial_start",
    "serial_end",
    "quantity",
    "account_id",
    "status",
    "parent_id",
    "lot_id",
    "retirement_id",
    "cancellation_id",
    "created_at",
)

_PG = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    # active serial ranges of a batch never overlap
    "ALTER TABLE credit_blocks ADD CONSTRAINT ex_credit_blocks_serial_overlap EXCLUDE USING gist"
    " (batch_id WITH =, int8range(serial_start, serial_end, '[]') WITH &&) WHERE (active)",
    # monitoring periods of a project never overlap (rejected reports excepted)
    "ALTER TABLE monitoring_reports ADD CONSTRAINT ex_monitoring_reports_period_overlap"
    " EXCLUDE USING gist (project_id WITH =, daterange(period_start, period_end, '[]') WITH &&)"
    " WHERE (status <> 'rejected')",
    """CREATE FUNCTION mrv_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$""",
    "CREATE TRIGGER journal_events_append_only BEFORE UPDATE OR DELETE ON journal_events"
    " FOR EACH ROW EXECUTE FUNCTION mrv_append_only()",
    "CREATE TRIGGER journal_events_no_truncate BEFORE TRUNCATE ON journal_events"
    " FOR EACH STATEMENT EXECUTE FUNCTION mrv_append_only()",
    "CREATE TRIGGER credit_blocks_no_delete BEFORE DELETE ON credit_blocks"
    " FOR EACH ROW EXECUTE FUNCTION mrv_append_only()",
    "CREATE TRIGGER credit_blocks_no_truncate BEFORE TRUNCATE ON credit_blocks"
    " FOR EACH STATEMENT EXECUTE FUNCTION mrv_append_only()",
    """CREATE FUNCTION mrv_credit_blocks_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status IN ('retired', 'cancelled') THEN
    RAISE EXCEPTION 'retired or cancelled credits never change (block %)', OLD.id
      USING ERRCODE = 'check_violation';
  END IF;
  RAISE EXCEPTION 'credit blocks only change by being superseded (block %)', OLD.id
    USING ERRCODE = 'check_violation';
END $$""",
    # the WHEN clause is evaluated without calling PL/pgSQL: the function runs only to refuse
    "CREATE TRIGGER credit_blocks_guard BEFORE UPDATE ON credit_blocks FOR EACH ROW WHEN"
    " (OLD.status IN ('retired', 'cancelled') OR NOT (OLD.active AND NOT NEW.active)"
    f" OR ({', '.join('NEW.' + c for c in _BLOCK_FIELDS)})"
    f" IS DISTINCT FROM ({', '.join('OLD.' + c for c in _BLOCK_FIELDS)}))"
    " EXECUTE FUNCTION mrv_credit_blocks_guard()",
]

_SQLITE = [
    "CREATE TRIGGER journal_events_no_update BEFORE UPDATE ON journal_events"
    " BEGIN SELECT RAISE(ABORT, 'journal_events is append-only'); END",
    "CREATE TRIGGER journal_events_no_delete BEFORE DELETE ON journal_events"
    " BEGIN SELECT RAISE(ABORT, 'journal_events is append-only'); END",
    "CREATE TRIGGER credit_blocks_no_delete BEFORE DELETE ON credit_blocks"
    " BEGIN SELECT RAISE(ABORT, 'credit_blocks is append-only'); END",
    "CREATE TRIGGER credit_blocks_guard BEFORE UPDATE ON credit_blocks WHEN"
    " OLD.status IN ('retired', 'cancelled') OR NOT (OLD.active = 1 AND NEW.active = 0) OR "
    + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _BLOCK_FIELDS)
    + " BEGIN SELECT RAISE(ABORT, 'credit blocks only change by being superseded'); END",
    # the active block starting last at or before the new end is the only one that can overlap
    "CREATE TRIGGER credit_blocks_no_overlap BEFORE INSERT ON credit_blocks WHEN NEW.active = 1"
    " BEGIN SELECT RAISE(ABORT, 'serial range overlaps an active block') WHERE"
    " (SELECT serial_end FROM credit_blocks WHERE batch_id = NEW.batch_id AND active = 1"
    " AND serial_start <= NEW.serial_end ORDER BY serial_start DESC LIMIT 1) >= NEW.serial_start;"
    " END",
    "CREATE TRIGGER monitoring_reports_no_overlap BEFORE INSERT ON monitoring_reports"
    " WHEN NEW.status <> 'rejected'"
    " BEGIN SELECT RAISE(ABORT, 'monitoring period overlaps an earlier period') WHERE EXISTS"
    " (SELECT 1 FROM monitoring_reports WHERE project_id = NEW.project_id"
    " AND status <> 'rejected' AND period_start <= NEW.period_end"
    " AND period_end >= NEW.period_start); END",
]


def _guards() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _PG if dialect == "postgresql" else _SQLITE if dialect == "sqlite" else []:
        op.execute(statement)


def _drop_guards() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS mrv_append_only() CASCADE")
        op.execute("DROP FUNCTION IF EXISTS mrv_credit_blocks_guard() CASCADE")


def _seed() -> None:
    accounts = sa.table(
        "accounts",
        sa.column("code", sa.String),
        sa.column("kind", sa.String),
        sa.column("party_id", sa.Integer),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        accounts,
        [{"code": "BUFFER", "kind": "buffer", "party_id": None, "created_at": datetime.now(UTC)}],
    )
