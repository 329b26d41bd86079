"""End to end in headless Chromium (Debian's ``chromium``, driven by Playwright through its
executable path; never downloaded): the real app served by uvicorn on 127.0.0.1.

As the verifier: log in through the login form, open the package under review, check its files
and maps, start the re-run and wait for its result, record a corrective action request (on the
page and in the registry). As the buyer: retire credits through the account page, land on the
certificate, download its PDF (a PDF holding the certificate number) and check the holdings went
down by exactly that quantity. No request leaves 127.0.0.1 and the console stays free of errors.
Full-page screenshots go to ``test-artifacts/browser/`` (or ``$MRV_TEST_ARTIFACTS/browser/``).

Without ``/usr/bin/chromium`` the test fails when ``CI`` or ``MRV_REQUIRE_BROWSER`` is set, and
is skipped (with the reason) on a developer machine without either.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pypdfium2 as pdfium
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from mrv.registry.core import Registry
from mrv.registry.queries import holdings
from mrv.registry.retirement import get_retirement
from mrv.registry.verification import get_verification
from mrv.settings import Settings
from pipelines.report.fonts import cjk_font_path
from tests.web.browser_world import World, build_world, serve

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
RETIRE = 40
"""Tonnes the buyer retires."""
FINDING = "地块边界与合同附图不一致 / parcel boundary differs from the contract map"
RERUN_WAIT_S = 60
"""How long the re-run may take before the test gives up (not a timing assert)."""


def artifacts() -> Path:
    """``$MRV_TEST_ARTIFACTS/browser`` or ``test-artifacts/browser`` at the repository root."""
    base = os.environ.get("MRV_TEST_ARTIFACTS")
    folder = (Path(base) if base else ROOT / "test-artifacts") / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def chromium_path() -> Path:
    """Debian's Chromium; missing: a failure on CI (or MRV_REQUIRE_BROWSER), else a skip."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = (
        f"{CHROMIUM} is missing: the end-to-end browser test needs Debian's chromium "
        "(apt-get install chromium; .ci/run installs it). Playwright's own browsers are never "
        "downloaded."
    )
    if os.environ.get("CI") or os.environ.get("MRV_REQUIRE_BROWSER"):
        pytest.fail(reason + " CI / MRV_REQUIRE_BROWSER is set, so this is a failure.")
    pytest.skip(reason)


def fontconfig(folder: Path) -> Path:
    """A fontconfig file adding the report's CJK font (Noto Sans CJK SC of the ``mplfonts``
    wheel) to the system's fonts, so Chinese text is drawn in the screenshots even where no
    CJK font is installed."""
    fonts = folder / "fonts"
    fonts.mkdir(parents=True, exist_ok=True)
    font = cjk_font_path()
    (fonts / font.name).unlink(missing_ok=True)
    (fonts / font.name).symlink_to(font)
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{fonts}</dir>\n  <cachedir>{folder / 'cache'}</cachedir>\n</fontconfig>\n",
        encoding="utf-8",
    )
    return conf


@pytest.fixture
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    executable = chromium_path()
    env = {**os.environ, "FONTCONFIG_FILE": str(fontconfig(tmp_path_factory.mktemp("fc")))}
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(executable), headless=True, env=env)
        try:
            yield b
        finally:
            b.close()


class Watch:
    """Every request the browser makes and every console error or page exception."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.failed: list[str] = []
        context.on("request", lambda r: self.requests.append(r.url))
        context.on(
            "response",
            lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        page.on(
            "console",
            lambda m: (
                self.errors.append(f"{m.text} ({m.location.get('url')})")
                if m.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def outside(self) -> list[str]:
        """Requests to anything but 127.0.0.1 (data: and blob: URLs stay in the page)."""
        return [url for url in self.requests if not local(url)]


def local(url: str) -> bool:
    """Whether a request's URL stays on this machine."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob"):
        return True
    return parts.scheme == "http" and parts.hostname == "127.0.0.1"


@pytest.fixture
def world(registry: Registry, tmp_path: Path) -> World:
    return build_world(registry, tmp_path / "data", tmp_path / "work")


@pytest.fixture
def base_url(registry: Registry, settings: Settings, tmp_path: Path, world: World) -> Iterator[str]:
    app_settings = settings.model_copy(update={"data_dir": tmp_path / "data"})
    with serve(registry, app_settings) as url:
        yield url


def log_in(page: Page, base: str, token: str, target: str) -> None:
    """Log in through the real login form, coming back to ``target``."""
    page.goto(f"{base}/login?next={quote(target, safe='')}")
    page.fill("input[name=token]", token)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}{target}")


def shot(page: Page, name: str, request: pytest.FixtureRequest) -> Path:
    callspec = getattr(request.node, "callspec", None)
    backend = callspec.params.get("database_url", "sqlite") if callspec else "sqlite"
    path = artifacts() / f"{name}-{backend}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000
    return path


def review(
    page: Page, base: str, world: World, registry: Registry, tmp: Path, req: pytest.FixtureRequest
) -> None:
    """The verifier's part: files, maps, re-run, a CAR finding."""
    target = f"/review/{world.project}/{world.report_seq}"
    log_in(page, base, world.verifier_token, target)

    # the package's files, as its manifest lists them
    paths = page.locator("table#package-files tbody tr td:first-child").all_inner_texts()
    assert [p.strip() for p in paths] == world.package_files

    # the maps are images that loaded
    maps = page.locator("section#maps img")
    assert maps.count() >= 1
    for i in range(maps.count()):
        image = maps.nth(i)
        image.scroll_into_view_if_needed()
        expect(image).to_be_visible()
        page.wait_for_function("img => img.complete", arg=image.element_handle())
        assert image.evaluate("img => img.naturalWidth") > 0, image.get_attribute("src")

    # the re-run: a verification job of the package; reload until the page shows its result
    page.locator("section#rerun form button[type=submit]").click()
    page.wait_for_url(re.compile(re.escape(f"{base}{target}?done=rerun")))
    rerun = page.locator("section#rerun")
    for _ in range(RERUN_WAIT_S * 2):
        if rerun.get_attribute("data-status") in ("succeeded", "failed"):
            break
        page.wait_for_timeout(500)
        page.reload()
    assert rerun.get_attribute("data-status") == "succeeded", rerun.inner_text()
    expect(rerun.locator("#rerun-ok")).to_have_attribute("data-ok", "true")
    for check in ("signature_ok", "hashes_ok", "recomputed_ok"):
        expect(rerun.locator(f"[data-check={check}]")).to_have_attribute("data-value", "true")
    jobs = [json.loads(p.read_text("utf-8")) for p in (tmp / "data" / "jobs").glob("*/job.json")]
    assert [(j["subject"], j["submitted_by"], j["status"]) for j in jobs] == [
        (world.package_sha256, world.verifier, "succeeded")
    ]
    assert jobs[0]["result"]["ok"] is True and jobs[0]["result"]["mismatches"] == []

    # a corrective action request through the form
    form = page.locator("form#finding-form")
    form.locator("select[name=kind]").select_option("CAR")
    form.locator("textarea[name=text]").fill(FINDING)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    page.wait_for_url(re.compile(re.escape(f"{base}{target}?done=finding")))
    row = page.locator("table#findings tbody tr", has_text=FINDING)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("CAR")
    recorded = get_verification(registry, world.project, world.report_seq)["findings"]
    assert [(f["kind"], f["text"], f["status"]) for f in recorded] == [("CAR", FINDING, "open")]
    shot(page, "review", req)


def retirement(
    page: Page, base: str, world: World, registry: Registry, req: pytest.FixtureRequest
) -> None:
    """The buyer's part: retire, the certificate page, its PDF, the holdings."""
    log_in(page, base, world.buyer_token, "/account")
    before = next(
        b for b in holdings(registry, world.buyer)["batches"] if b["batch"] == world.batch
    )
    row = page.locator(f"table#holdings tr[data-batch='{world.batch}']")
    expect(row.locator("[data-status=held]")).to_have_text(f"{before['held']:,}")
    shot(page, "account", req)

    form = page.locator("form#retire-form")
    form.locator("select[name=batch]").select_option(world.batch)
    form.locator("input[name=quantity]").fill(str(RETIRE))
    form.locator("select[name=purpose]").select_option("voluntary")
    form.locator("input[name=beneficiary]").fill("湖州某企业 2025 年度排放")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/retirements/HZ-RET-[0-9A-F]+$"))
    number = page.url.rsplit("/", 1)[-1]
    record = get_retirement(registry, number)
    assert (record["account"], record["quantity_tco2e"]) == (world.buyer, RETIRE)

    expect(page.locator("#certificate-no")).to_have_text(number)
    expect(page.locator("#certificate-quantity")).to_have_text(f"{RETIRE:,}")
    verification = page.locator("section#certificate-verification")
    expect(verification).to_be_visible()
    expect(verification).to_have_attribute("data-ok", "true")

    shot(page, "certificate", req)

    # the PDF link, downloaded as a user saves a link (Alt+click; a plain click would show the
    # inline PDF in Chromium's viewer)
    link = page.locator("a#certificate-pdf")
    href = f"/v1/retirements/{number}/certificate.pdf"
    assert link.get_attribute("href") == href
    with page.expect_download() as download:
        link.click(modifiers=["Alt"])
    assert download.value.url == f"{base}{href}"
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    document = pdfium.PdfDocument(io.BytesIO(pdf))
    try:
        text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()
    assert number in text

    after = next(b for b in holdings(registry, world.buyer)["batches"] if b["batch"] == world.batch)
    assert after["held"] == before["held"] - RETIRE
    assert after["retired"] == before["retired"] + RETIRE
    page.goto(f"{base}/account")
    expect(row.locator("[data-status=held]")).to_have_text(f"{before['held'] - RETIRE:,}")
    expect(row.locator("[data-status=retired]")).to_have_text(f"{before['retired'] + RETIRE:,}")
    expect(page.locator(f"table#retirements tr[data-certificate='{number}']")).to_contain_text(
        f"{RETIRE:,}"
    )


def test_verifier_and_buyer_in_the_browser(
    browser: Browser,
    base_url: str,
    world: World,
    registry: Registry,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    for part in ("verifier", "buyer"):
        context = browser.new_context(accept_downloads=True, locale="zh-CN")
        page = context.new_page()
        watch = Watch(context, page)
        try:
            if part == "verifier":
                review(page, base_url, world, registry, tmp_path, request)
            else:
                retirement(page, base_url, world, registry, request)
        finally:
            context.close()
        assert watch.requests, part
        assert watch.outside() == [], (part, watch.outside())
        assert watch.failed == [], (part, watch.failed)
        assert watch.errors == [], (part, watch.errors)
