"""The public notice of a project (CCER Measures 2023, Art. 12): ``/v1/projects/{code}/notice``,
``…/comments`` and ``…/comments/{id}/response`` (part of the projects router)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field

from api.deps import Actor, IdempotencyKey, RegistryDep
from api.schemas import WriteResult, receipt
from mrv.registry.projects import add_notice_comment, respond_to_comment, start_public_notice

router = APIRouter()

ProjectCode = Annotated[str, Path(max_length=64, description="Project code.")]


class NoticeIn(BaseModel):
    """When the public notice starts."""

    start: dt.date | None = Field(
        default=None, examples=["2026-03-02"], description="First day (default today; not past)."
    )


class CommentIn(BaseModel):
    """A comment received during the public notice."""

    comment: str = Field(max_length=5000, examples=["边界与我家承包地重叠"])
    commenter: str | None = Field(
        default=None, max_length=200, examples=["递铺街道村民"], description="Default: the actor."
    )


class ResponseIn(BaseModel):
    """The proponent's answer."""

    response: str = Field(max_length=5000, examples=["边界已按林权证复核，无重叠"])


@router.post("/{code}/notice", response_model=WriteResult)
def post_notice(
    code: ProjectCode,
    actor: Actor,
    registry: RegistryDep,
    body: NoticeIn | None = None,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Put a draft project on public notice for ``MRV_NOTICE_WORKING_DAYS`` working days (its
    proponent or an admin)."""
    start = body.start if body is not None else None
    return receipt(
        start_public_notice(
            registry, actor=actor.party, project=code, start=start, idempotency_key=key
        )
    )


@router.post("/{code}/comments", status_code=status.HTTP_201_CREATED, response_model=WriteResult)
def post_comment(
    code: ProjectCode,
    body: CommentIn,
    actor: Actor,
    registry: RegistryDep,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Record a comment during the notice (any party; ``commenter`` names who made it)."""
    return receipt(
        add_notice_comment(
            registry,
            actor=actor.party,
            project=code,
            comment=body.comment,
            commenter=body.commenter,
            idempotency_key=key,
        )
    )


@router.post("/{code}/comments/{comment_id}/response", response_model=WriteResult)
def post_comment_response(
    code: ProjectCode,
    comment_id: Annotated[int, Path(gt=0, le=2**62, description="The comment's id.")],
    body: ResponseIn,
    actor: Actor,
    registry: RegistryDep,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """The proponent's response to a comment (once; every comment needs one to register)."""
    return receipt(
        respond_to_comment(
            registry,
            actor=actor.party,
            project=code,
            comment_id=comment_id,
            response=body.response,
            idempotency_key=key,
        )
    )
