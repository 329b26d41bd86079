"""Page routers, one module per audience: the public explorer, verifier review, the buyer's
account, the cooperative, the trading centre and the forestry bureau."""

from fastapi import APIRouter

from api.web.pages import account, bureau, cooperative, public, review, trading

PAGE_ROUTERS: tuple[APIRouter, ...] = (
    public.router,
    review.router,
    account.router,
    cooperative.router,
    trading.router,
    bureau.router,
)

__all__ = ["PAGE_ROUTERS"]
