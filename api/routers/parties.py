"""``/v1/parties``: parties and their roles (created by admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field

from api.deps import Actor, IdempotencyKey, RegistryDep
from api.openapi import PROBLEMS
from api.pagination import Cursor, Limit, Page, paginate
from api.schemas import WriteResult, receipt
from mrv.errors import RecordNotFoundError
from mrv.registry.models import ROLES
from mrv.registry.parties import add_role, create_party
from mrv.registry.queries import list_parties

router = APIRouter(prefix="/parties", tags=["parties"], responses=PROBLEMS)

Code = Annotated[str, Path(max_length=64, description="Party code.")]


class PartyIn(BaseModel):
    """A new party."""

    code: str = Field(max_length=64, examples=["anji-coop"])
    name: str = Field(max_length=200, examples=["安吉县两山竹林碳汇收储合作社"])
    roles: list[str] = Field(min_length=1, examples=[["cooperative"]], description=f"{ROLES}")
    credit_code: str | None = Field(default=None, max_length=64, examples=["93330523MA2B12345X"])


class RoleIn(BaseModel):
    """A role to add."""

    role: str = Field(examples=["buyer"])


class PartyOut(BaseModel):
    """A party with its roles."""

    code: str
    name: str
    credit_code: str | None
    roles: list[str]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WriteResult)
def post_party(
    body: PartyIn, actor: Actor, registry: RegistryDep, key: IdempotencyKey = None
) -> dict[str, Any]:
    """Create a party with its roles and holding account (admins)."""
    return receipt(
        create_party(
            registry,
            actor=actor.party,
            code=body.code,
            name=body.name,
            roles=body.roles,
            credit_code=body.credit_code,
            idempotency_key=key,
        )
    )


@router.get("", response_model=Page[PartyOut])
def get_parties(
    actor: Actor, registry: RegistryDep, limit: Limit = 100, cursor: Cursor = None
) -> Page[dict[str, Any]]:
    """Every party, by code."""
    return paginate(list_parties(registry), lambda p: p["code"], limit=limit, cursor=cursor)


@router.get("/{code}", response_model=PartyOut)
def get_party(code: Code, actor: Actor, registry: RegistryDep) -> dict[str, Any]:
    """One party."""
    found = list_parties(registry, code)
    if not found:
        raise RecordNotFoundError(f"no party {code!r}", field="party", party=code)
    return found[0]


@router.post("/{code}/roles", response_model=WriteResult)
def post_role(
    code: Code, body: RoleIn, actor: Actor, registry: RegistryDep, key: IdempotencyKey = None
) -> dict[str, Any]:
    """Give a party another role (admins)."""
    return receipt(
        add_role(registry, actor=actor.party, party=code, role=body.role, idempotency_key=key)
    )
