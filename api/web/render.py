"""Rendering pages: the Jinja2 environment, the context every page gets, HTML errors.

Every template extends ``base.html`` and gets ``lang``, ``tr`` (see :mod:`api.web.i18n`),
``principal`` (the logged-in party or None), ``can(*roles)`` (it holds one of the roles
or is an admin), ``csrf`` (the form token), ``lang_url(code)`` (this
page in another language) and the filters ``tonnes``, ``yuan``, ``num`` and ``json_script``.
Responses carry a Content-Security-Policy that allows scripts, styles, images and requests from
this site only.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from api.web import i18n
from api.web.session import csrf_token, session_token, web_principal

TEMPLATES = Path(__file__).parent / "templates"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def tonnes(value: Any) -> str:
    """Whole tonnes with thousands separators (``1,234``); ``—`` for None."""
    return "—" if value is None else f"{int(value):,}"


def yuan(value: Any) -> str:
    """Yuan to the fen with thousands separators (``¥12,345.60``); ``—`` for None."""
    if value is None:
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"¥{amount:,.2f}"


def num(value: Any, digits: int = 2) -> str:
    """A number to ``digits`` decimals with thousands separators; ``—`` for None."""
    return "—" if value is None else f"{float(value):,.{digits}f}"


def json_script(value: Any, element_id: str) -> Markup:
    """``value`` as JSON in ``<script type="application/json" id=…>`` (data for page scripts;
    ``<``, ``>`` and ``&`` escaped so the JSON cannot end the element)."""
    text = (
        json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    return Markup('<script type="application/json" id="{}">{}</script>').format(
        element_id, Markup(text)
    )


PROBLEM_TITLES_ZH = {
    "Not authenticated": "未登录",
    "Forbidden": "无权操作",
    "Not found": "未找到",
    "Not Found": "未找到",
    "Method Not Allowed": "不支持的请求方法",
    "Idempotency key reused with another request": "幂等键已用于另一请求",
    "Conflict with the registry's state": "与登记簿当前状态冲突",
    "Invalid input": "输入无效",
    "Bad request": "请求有误",
    "Malformed JSON": "JSON 格式错误",
    "Internal error": "服务器内部错误",
    "Request body too large": "请求内容过大",
}
"""Chinese titles of the problem-details titles (:data:`api.problems.STATUS` and HTTP's own);
the detail stays the registry's message."""


def problem_title(title: str, lang: str) -> str:
    """A problem's title in the page's language."""
    return PROBLEM_TITLES_ZH.get(title, title) if lang == "zh" else title


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        tonnes=tonnes, yuan=yuan, num=num, json_script=json_script, problem_title=problem_title
    )
    return env


ENV = _environment()


def _lang_url(request: Request, code: str) -> str:
    params = {k: v for k, v in request.query_params.items() if k != "lang"}
    params["lang"] = code
    return f"{request.url.path}?{urlencode(params)}"


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` with the page context; remembers an explicit ``?lang=``."""
    lang = i18n.language(request)
    token = session_token(request)
    principal = web_principal(request) if token else None
    page = ENV.get_template(template).render(
        lang=lang,
        tr=i18n.translator(lang),
        principal=principal,
        can=lambda *roles: principal is not None and bool(principal.roles & {*roles, "admin"}),
        csrf=csrf_token(token) if token and principal else "",
        lang_url=lambda code: _lang_url(request, code),
        request_path=request.url.path,
        **context,
    )
    response = HTMLResponse(page, status_code=status, headers=HEADERS)
    if request.query_params.get("lang") in i18n.LANGS:
        response.set_cookie(
            i18n.COOKIE, request.query_params["lang"], max_age=365 * 86400, samesite="lax"
        )
    return response


def error_page(
    request: Request, status: int, title: str, detail: str, problems: list[str] | None = None
) -> HTMLResponse:
    """An error as a page (the HTML face of a problem-details response)."""
    return render(
        request,
        "error.html",
        status=status,
        status_code=status,
        title=title,
        detail=detail,
        problems=problems or [],
    )


def wants_html(request: Request) -> bool:
    """Whether an error on this request should be a page: a browser asking for HTML, outside
    the API (``/v1``), the static files and the OpenAPI documents."""
    path = request.url.path
    if path.startswith(("/v1/", "/static/", "/openapi", "/docs", "/redoc")):
        return False
    return "text/html" in request.headers.get("accept", "")


__all__ = [
    "ENV",
    "HEADERS",
    "error_page",
    "json_script",
    "num",
    "render",
    "tonnes",
    "wants_html",
    "yuan",
]
