"""OpenAPI documentation of the problem details (:mod:`api.problems`) the routes can answer.

Routers declare them with ``APIRouter(..., responses=PROBLEMS)``, so every operation documents
its ``application/problem+json`` errors (and FastAPI's default 422 schema, which the app never
sends, is replaced).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.problems import MEDIA_TYPE


class Problem(BaseModel):
    """RFC 9457 problem details; extension members (``records``, ``problems``, ``errors``,
    ``limit_bytes`` …) carry the structured detail of the error."""

    model_config = ConfigDict(extra="allow", title="Problem")
    type: str = Field(examples=["/problems/not-holder"])
    title: str
    status: int
    detail: str
    instance: str | None = None
    code: str = Field(description="Stable slug of the error (the last part of ``type``).")


DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request (e.g. the body is not valid JSON)",
    401: "No valid bearer token",
    403: "The party may not do this",
    404: "No such record",
    409: "Conflict with the registry's state",
    413: "Request body too large",
    422: "Invalid input",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a router or route: the given statuses (default: all of
    :data:`DESCRIPTIONS`) as ``application/problem+json`` :class:`Problem` bodies."""
    schema = Problem.model_json_schema()
    return {
        status: {
            "description": DESCRIPTIONS[status],
            "content": {MEDIA_TYPE: {"schema": schema}},
        }
        for status in statuses or tuple(DESCRIPTIONS)
    }


PROBLEMS = problem_responses()
"""Every problem status, for routers."""

__all__ = ["DESCRIPTIONS", "PROBLEMS", "Problem", "problem_responses"]
