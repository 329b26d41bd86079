"""Pages of the trading area (being written)."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
