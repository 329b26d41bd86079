"""``mrv package keygen|build|verify``: signed evidence packages of a campaign run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from mrv.cli._common import EXIT_FAILURE, print_json
from pipelines.package.keys import (
    fingerprint,
    generate_key,
    load_public_key,
    public_b64,
    public_raw,
    save_key,
)
from pipelines.package.verify import verify_package

app = typer.Typer(
    help="Evidence packages: sign a run folder as a STAC catalog, verify and re-run one.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _say(data: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    if as_json:
        print_json(data)
    else:
        out = Console(highlight=False, soft_wrap=True)
        for line in lines:
            out.print(line, markup=False)


@app.command("keygen")
def keygen(
    out: Annotated[Path, typer.Option("--out", help="Private key file (KEY.pub is written too).")],
    force: Annotated[bool, typer.Option(help="Overwrite existing key files.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create an Ed25519 signing key: KEY (PEM, mode 0600) and KEY.pub."""
    key = generate_key()
    pub = save_key(key, out, overwrite=force)
    fp = fingerprint(public_raw(key))
    data = {"ok": True, "key": str(out), "public_key_file": str(pub), "public_key": public_b64(key)}
    data["fingerprint"] = fp
    _say(data, as_json, [f"private key: {out} (keep it secret)", f"public key:  {pub}", fp])


@app.command("build")
def build(
    run_dir: Annotated[Path, typer.Argument(help="Run folder written by `mrv campaign run`.")],
    key: Annotated[Path, typer.Option("--key", help="The measurer's Ed25519 private key.")],
    out: Annotated[Path, typer.Option("--out", help="Package folder, or a file ending in .zip.")],
    as_json: JsonOpt = False,
) -> None:
    """Build a signed evidence package (STAC catalog + manifest) from a run folder."""
    from pipelines.package.build import build as build_package  # imports the STAC stack

    built = build_package(run_dir, key, out)
    m = built.manifest
    data = {
        "ok": True,
        "package": str(built.path),
        "campaign_id": m["campaign_id"],
        "methodology": m["methodology"],
        "files": len(m["files"]),
        "created_utc": m["created_utc"],
        "signer": m["signer"],
    }
    lines = [
        f"package: {built.path}",
        f"campaign {m['campaign_id']}, {len(m['files'])} files, "
        f"signed by {m['signer']['fingerprint']}",
    ]
    _say(data, as_json, lines)


@app.command("verify")
def verify(
    package: Annotated[Path, typer.Argument(help="Package folder or zip.")],
    as_json: JsonOpt = False,
    no_recompute: Annotated[
        bool, typer.Option("--no-recompute", help="Check hashes and signature only.")
    ] = False,
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="The signer must be this key (KEY.pub).")
    ] = None,
) -> None:
    """Check every hash and the signature, re-run the computation, compare the outputs."""
    expected = load_public_key(public_key) if public_key is not None else None
    result = verify_package(package, recompute=not no_recompute, public_key=expected)

    def flag(value: bool | None, why: str | None = None) -> str:
        return f"skipped ({why})" if value is None else ("ok" if value else "FAILED")

    signer = result["signer"]["fingerprint"] if result["signer"] else "unknown"
    lines = [
        f"package {package}: {result['files_checked']} files, campaign {result['campaign_id']}",
        f"signature: {flag(result['signature_ok'])} (signer {signer})",
        f"hashes:    {flag(result['hashes_ok'])}",
        f"re-run:    {flag(result['recomputed_ok'], result.get('recompute_skipped'))}",
        *(f"  {m['file']}: {m['reason']}" for m in result["mismatches"]),
        "VERIFIED" if result["ok"] else "VERIFICATION FAILED",
    ]
    _say(result, as_json, lines)
    if not result["ok"]:
        raise typer.Exit(EXIT_FAILURE)
