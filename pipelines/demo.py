"""``mrv demo`` (``make demo``): one complete season for the Anji bamboo site on the embedded
default (SQLite, local files): campaign → evidence package → verification with a re-run →
registry (project, report, verification with a finding closed, issuance with buffer, a lot
settled, a judicial-restoration retirement, benefits distributed) → audit; then every
methodology's bundled plot-survey example. Writes ``summary.json`` in the output folder, and
``web-tokens.json`` with a login per demo party for browsing the registry with ``mrv serve``.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from mrv.cli._common import print_json, to_json, write_atomic
from mrv.hashing import sha256_file
from mrv.settings import Settings

CAMPAIGN = (
    Path(__file__).resolve().parents[1] / "aoi" / "anji-bamboo" / "campaign" / "campaign.toml"
)
"""The bundled campaign of the demo (synthetic scenes generated from its recipe)."""


def run_demo(out: Path, *, progress: bool = True) -> dict[str, Any]:
    """Run the season and the examples into ``out`` (replaced); returns the summary."""
    from mrv.registry.core import Registry
    from pipelines.campaign.config import load_campaign
    from pipelines.campaign.run import run_campaign
    from pipelines.demo_examples import run_examples
    from pipelines.package.build import build_package
    from pipelines.package.keys import generate_key, save_key
    from pipelines.package.verify import verify_package
    from pipelines.season import run_season

    out = out.absolute()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    run_dir = out / "run"
    campaign = run_campaign(load_campaign(CAMPAIGN), run_dir, progress=progress)
    timings["campaign_s"] = time.perf_counter() - t

    t = time.perf_counter()
    (out / "keys").mkdir()
    key = out / "keys" / "measurer.key"
    public = save_key(generate_key(), key)
    package = build_package(run_dir, key, out / "package.zip")
    timings["package_s"] = time.perf_counter() - t
    t = time.perf_counter()
    verified = verify_package(package)
    timings["verify_s"] = time.perf_counter() - t
    if not verified["ok"]:
        raise RuntimeError(f"the demo's own package failed verification: {verified['mismatches']}")

    t = time.perf_counter()
    settings = Settings(
        database_url=f"sqlite:///{(out / 'registry.sqlite').resolve()}", data_dir=out / "data"
    )
    registry = Registry.open(settings)
    try:
        season = run_season(registry, run_dir, sha256_file(package), out)
        web = _web_access(registry, settings, package, out)
    finally:
        registry.close()
    timings["registry_s"] = time.perf_counter() - t

    t = time.perf_counter()
    examples = run_examples(out / "examples")
    timings["examples_s"] = time.perf_counter() - t

    removals = campaign["removals"]
    summary = {
        "campaign": {
            "id": campaign["campaign"]["id"],
            "run_dir": str(run_dir),
            "removals_tco2e": removals["removals_tco2e"],
            "ci90_half_width_tco2e": removals["ci90_half_width_tco2e"],
            "conservative_removals_tco2e": removals["conservative_removals_tco2e"],
            "claimable_tco2e": removals["claimable_tco2e"],
            "model_assisted_co2e_t": (campaign["stock"].get("model_assisted") or {}).get(
                "total_co2e_t"
            ),
            "overall_accuracy": campaign["classification"]["overall_accuracy"],
            "report_html": str(run_dir / "report" / "report.html"),
            "report_pdf": str(run_dir / "report" / "report.pdf"),
        },
        "package": {
            "path": str(package),
            "sha256": sha256_file(package),
            "public_key": str(public),
        },
        "verify": {
            k: verified.get(k)
            for k in ("ok", "signature_ok", "hashes_ok", "recomputed_ok", "mismatches")
        },
        "registry": {**season, "database": str(out / "registry.sqlite")},
        "web": web,
        "examples": examples,
        "timings_s": {k: round(v, 2) for k, v in timings.items()},
        "output_dir": str(out),
    }
    write_atomic(out / "summary.json", to_json(summary) + "\n")
    return summary


WEB_PARTIES = ("hz-verifier", "defendant-001", "anji-coop", "hz-gtc", "hz-court", "root")
"""Demo parties given a web login token (verifier, buyer, cooperative, trading centre, court,
administrator)."""


def _web_access(registry: Any, settings: Settings, package: Path, out: Path) -> dict[str, Any]:
    """Make the demo registry browsable with ``mrv serve``: the package in the server's store
    (so the verifier's review page shows it) and a login token per demo party in
    ``web-tokens.json`` (readable by the owner only; demo secrets, valid 30 days)."""
    import datetime as dt

    from mrv.registry.tokens import create_token

    store = settings.data_dir / "packages"
    store.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(package, store / f"{sha256_file(package)}.zip")
    expires = registry.clock() + dt.timedelta(days=30)
    tokens = {}
    for party in WEB_PARTIES:
        token, _ = create_token(
            registry, actor="root", party=party, name="demo web login", expires_at=expires
        )
        tokens[party] = token
    path = out / "web-tokens.json"
    write_atomic(path, to_json(tokens) + "\n")
    path.chmod(0o600)
    env = f"MRV_DATABASE_URL={settings.database_url} MRV_DATA_DIR={settings.data_dir.resolve()}"
    return {"serve": f"{env} mrv serve", "url": "http://127.0.0.1:8000/", "tokens": str(path)}


def _lines(s: dict[str, Any]) -> list[str]:
    c, r, v = s["campaign"], s["registry"], s["verify"]
    lot, ret = r["lot"], r["retirement"]
    return [
        f"Season {c['id']} (Anji moso bamboo, synthetic scenes, bundled survey):",
        f"  removals {c['removals_tco2e']:,.1f} ± {c['ci90_half_width_tco2e']:,.1f} t CO2e "
        f"(90 % CI) → conservative {c['conservative_removals_tco2e']:,.1f}, claimable "
        f"{c['claimable_tco2e']:,} t; land-cover accuracy {c['overall_accuracy']:.3f}",
        f"  package verified: ok={v['ok']} (signature {v['signature_ok']}, hashes "
        f"{v['hashes_ok']}, re-run {v['recomputed_ok']})",
        f"  registry: project {r['project']} ({r['parcels']} parcels, {r['households']} "
        f"households), finding {r['finding']['kind']} closed, batch {r['batch']}: "
        f"{r['issued_tco2e']} t issued, {r['buffer_tco2e']} t to the buffer",
        f"  lot {lot['code']}: {lot['quantity_tco2e']} t at ¥{lot['price_yuan_per_t']}/t settled, "
        f"¥{lot['owners_total_yuan']} to {r['distribution']['owners']} households",
        f"  judicial restoration: {ret['quantity_tco2e']} t retired, certificate "
        f"{ret['certificate_no']} (verified {ret['certificate_verified']})",
        f"  audit: ok={r['audit']['ok']} ({r['audit']['events']} journal events)",
        f"Report:      {c['report_html']}",
        f"             {c['report_pdf']}",
        f"Package:     {s['package']['path']}",
        f"Certificate: {ret['certificate_pdf']}",
        f"Summary:     {s['output_dir']}/summary.json",
        f"Web pages:   {s['web']['serve']}",
        f"             then {s['web']['url']} (log in with a token of {s['web']['tokens']})",
    ]


def demo(
    out: Annotated[Path, typer.Option(help="Output folder (replaced).")] = Path("demo-output"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Run one complete season for the Anji bamboo site, then every bundled example."""
    import sys

    summary = run_demo(out, progress=not as_json and sys.stderr.isatty())
    if as_json:
        print_json(summary)
        return
    console = Console(highlight=False, soft_wrap=True)
    for line in _lines(summary):
        console.print(line, markup=False)


__all__ = ["CAMPAIGN", "demo", "run_demo"]
