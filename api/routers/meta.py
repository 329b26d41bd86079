"""``/v1/health`` and ``/v1/me``."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import Actor
from api.openapi import PROBLEMS

router = APIRouter(tags=["meta"], responses=PROBLEMS)


class Health(BaseModel):
    """The service answers."""

    status: str = "ok"


class Me(BaseModel):
    """The party the token belongs to."""

    party: str
    roles: list[str]


@router.get("/health", response_model=Health)
def health() -> Health:
    """Liveness (no authentication)."""
    return Health()


@router.get("/me", response_model=Me)
def me(actor: Actor) -> Me:
    """Who the token authenticates."""
    return Me(party=actor.party, roles=sorted(actor.roles))
