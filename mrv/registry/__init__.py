"""The carbon-credit registry: parties, parcels, contracts, projects, verification, issuance,
trading lots, retirement, cancellation, reversals and benefit distribution.

Every write goes through :meth:`mrv.registry.core.Registry.execute` (one transaction, one
hash-chained journal event, an idempotency key); the schema is created by Alembic migrations.
"""
