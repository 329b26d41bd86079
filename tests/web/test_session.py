"""Logging in and out of the web pages, the form token, languages and HTML errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.web.i18n import _preferred
from api.web.session import COOKIE, safe_next
from mrv.registry.core import Registry
from mrv.registry.tokens import create_token, revoke_token
from tests.registry.builders import ADMIN, ensure_party
from tests.web.conftest import LogIn


def test_login_keeps_the_token_in_an_httponly_strict_cookie(
    web: TestClient, registry: Registry
) -> None:
    ensure_party(registry, "buyer-1", "Buyer", ["buyer"])
    token, _ = create_token(registry, actor=ADMIN, party="buyer-1", name="t")
    r = web.post("/login", data={"token": token, "next": "/account"})
    assert r.status_code == 303 and r.headers["location"] == "/account"
    cookie = r.headers["set-cookie"]
    assert f"{COOKIE}={token}" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = web.get("/login")
    assert 'data-party="buyer-1"' in page.text


def test_a_bad_token_is_refused_and_sets_no_cookie(web: TestClient) -> None:
    r = web.post("/login", data={"token": "mrv_not-a-token", "next": "/"})
    assert r.status_code == 401
    assert "set-cookie" not in r.headers
    assert "令牌无效" in r.text


def test_a_revoked_token_logs_nobody_in(web: TestClient, registry: Registry, log_in: LogIn) -> None:
    ensure_party(registry, "buyer-1", "Buyer", ["buyer"])
    token, record = create_token(registry, actor=ADMIN, party="buyer-1", name="t")
    assert token is not None
    revoke_token(registry, actor=ADMIN, token_id=int(record.result["token_id"]))
    assert web.post("/login", data={"token": token}).status_code == 401


def test_logout_needs_the_form_token(web: TestClient, registry: Registry, log_in: LogIn) -> None:
    ensure_party(registry, "buyer-1", "Buyer", ["buyer"])
    csrf = log_in(web, "buyer-1")
    refused = web.post("/logout", data={"csrf": "0" * 64})
    assert refused.status_code == 403
    assert web.cookies.get(COOKIE)
    done = web.post("/logout", data={"csrf": csrf})
    assert done.status_code == 303
    assert f'{COOKIE}=""' in done.headers["set-cookie"]


def test_next_stays_on_this_site() -> None:
    assert safe_next("/review/P/1") == "/review/P/1"
    for bad in ("https://evil.example/", "//evil.example", "/\\evil", "", None, "review"):
        assert safe_next(bad) == "/"


def test_language_from_query_cookie_and_browser(web: TestClient) -> None:
    en = web.get("/login?lang=en")
    assert '<html lang="en">' in en.text and "API token" in en.text
    assert "mrv_lang=en" in en.headers["set-cookie"]
    assert '<html lang="en">' in web.get("/login").text  # remembered
    web.cookies.clear()
    zh = web.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert '<html lang="zh-CN">' in zh.text and "API 令牌" in zh.text
    assert _preferred("en-GB,en;q=0.9,zh;q=0.5") == "en"
    assert _preferred("de-DE, zh;q=0.3, en;q=0.2") == "zh"
    assert _preferred("fr") == "zh"


def test_errors_on_pages_are_pages_and_the_api_keeps_problem_details(web: TestClient) -> None:
    page = web.get("/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>404 · 未找到</h1>" in page.text
    assert "<h1>404 · Not Found</h1>" in web.get("/no-such-page?lang=en").text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    api = web.get("/v1/no-such-thing")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"


def test_vendored_assets_are_served(web: TestClient) -> None:
    for path in (
        "/static/vendor/leaflet/dist/leaflet.js",
        "/static/vendor/uplot/dist/uPlot.iife.min.js",
        "/static/js/map.js",
        "/static/js/chart.js",
        "/static/css/site.css",
    ):
        r = web.get(path)
        assert r.status_code == 200, path
        assert len(r.content) > 500, path
