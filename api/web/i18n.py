"""Language of a page: Chinese (default) or English.

Chosen by ``?lang=zh|en`` (remembered in the ``mrv_lang`` cookie), else the cookie, else the
browser's ``Accept-Language`` (English only when it prefers English over Chinese). Texts are
written in templates and code as pairs, ``tr("中文", "English")``, so each translation stands next
to its original.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from starlette.requests import Request

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
COOKIE = "mrv_lang"
Translate = Callable[[str, str], str]


def _preferred(accept_language: str) -> Lang:
    """The first of zh/en in an ``Accept-Language`` header by quality (zh when neither)."""
    best: tuple[float, Lang] = (-1.0, "zh")
    for i, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGS:
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        score = q - i * 1e-6  # earlier wins ties
        if score > best[0]:
            best = (score, "en" if primary == "en" else "zh")
    return best[1]


def language(request: Request) -> Lang:
    """The language of the response to ``request``."""
    for value in (request.query_params.get("lang"), request.cookies.get(COOKIE)):
        if value == "en":
            return "en"
        if value == "zh":
            return "zh"
    return _preferred(request.headers.get("accept-language", ""))


def translator(lang: Lang) -> Translate:
    """``tr(zh, en)`` → the text in ``lang``."""

    def tr(zh: str, en: str) -> str:
        return en if lang == "en" else zh

    return tr


__all__ = ["COOKIE", "LANGS", "Lang", "Translate", "language", "translator"]
