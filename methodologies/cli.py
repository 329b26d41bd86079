"""``mrv methodology list|show``: what methodologies exist and what they contain."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from methodologies.registry import default_registry
from mrv.cli._common import print_json

app = typer.Typer(help="Documented, versioned methodologies.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """List methodologies (id, version, title, unconfirmed defaults)."""
    items: list[dict[str, Any]] = [
        {
            "id": m.id,
            "version": m.version,
            "title": m.title,
            "title_zh": m.title_zh,
            "tables": list(m.schema.names),
            "unconfirmed_parameters": [n for n, p in m.parameters.items() if not p.confirmed],
        }
        for m in default_registry()
    ]
    if as_json:
        print_json(items)
        return
    table = Table("id", "version", "title", "标题", "unconfirmed defaults")
    for item in items:
        table.add_row(
            item["id"],
            item["version"],
            item["title"],
            item["title_zh"],
            str(len(item["unconfirmed_parameters"])),
        )
    Console().print(table)


@app.command("show")
def show(
    methodology_id: Annotated[str, typer.Argument(metavar="ID", help="Methodology id.")],
    version: Annotated[str | None, typer.Option(help="Version (default: latest).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a methodology: summary, survey tables, pools and parameters with sources."""
    m = default_registry().get(methodology_id, version)
    if as_json:
        print_json(m.describe())
        return
    console = Console(highlight=False, soft_wrap=True)
    console.print(f"[bold]{m.id}[/bold] {m.version}: {m.title} ({m.title_zh})")
    console.print(m.summary)
    console.print(f"Document: {m.document}")
    tables = Table("table", "column", "type", "unit", "required", title="Survey tables")
    for t in m.schema.tables:
        for c in t.columns:
            tables.add_row(
                t.name + ("" if t.required else " (optional)"),
                c.name,
                c.kind,
                c.unit,
                "yes" if c.required else "no",
            )
    console.print(tables)
    pools = Table("pool", "kind", "unit", "description", title="Pools")
    for pool in m.pools:
        pools.add_row(pool.name, pool.kind, pool.unit, pool.description)
    for name, why in m.excluded_pools.items():
        pools.add_row(name, "excluded", "", why)
    console.print(pools)
    params = Table(
        "parameter", "value", "unit", "evidence", "confirmed", "source", title="Parameters"
    )
    for p in m.parameters.values():
        params.add_row(
            p.name, str(p.value), p.unit, p.evidence, "yes" if p.confirmed else "NO", p.source
        )
    console.print(params)
