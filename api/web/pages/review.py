"""Pages of the review area (being written)."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
