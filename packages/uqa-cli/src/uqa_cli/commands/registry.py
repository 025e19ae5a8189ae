"""``uqa list`` and ``uqa plugins``: what the registry holds and where it came from."""

from __future__ import annotations

import json

import typer

KIND_ALIASES = {
    "encoders": "encoder",
    "adapters": "adapter",
    "llms": "llm",
    "tasks": "task",
    "datasets": "dataset",
    "baselines": "baseline",
}


def register(app: typer.Typer) -> None:
    app.command("list")(list_command)
    app.command("plugins")(plugins_command)


def list_command(
    kind: str = typer.Argument(
        "all", help="encoders, adapters, llms, tasks, datasets, baselines or all"
    ),
    sizes: bool = typer.Option(False, "--sizes", help="with encoders: size presets and parameters"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """List registered encoders, adapters, LLM sources, tasks, datasets and baselines."""
    from rich.table import Table
    from uqa_data.errors import UnknownNameError
    from uqa_data.registry import KIND_HOOKS, list_components, unknown_name_message
    from uqa_eval.report import print_table

    if kind == "all":
        kinds = list(KIND_HOOKS)
    elif kind in KIND_ALIASES or kind in KIND_HOOKS:
        kinds = [KIND_ALIASES.get(kind, kind)]
    else:
        raise UnknownNameError(unknown_name_message("kind", kind, [*KIND_ALIASES, "all"]))
    if sizes:
        if kinds != ["encoder"]:
            raise UnknownNameError("--sizes goes with 'uqa list encoders'")
        _print_sizes(as_json=as_json)
        return
    rows = [
        (k, spec.name, spec.provider, spec.description)
        for k in kinds
        for spec in sorted(list_components(k).values(), key=lambda s: s.name)
    ]
    if as_json:
        typer.echo(
            json.dumps(
                [{"kind": k, "name": n, "provider": p, "description": d} for k, n, p, d in rows],
                indent=2,
            )
        )
        return
    table = Table(title="uqa registry", show_lines=False)
    for col in ("kind", "name", "provided by", "description"):
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    print_table(table)  # the listing is the output: stdout, so it pipes into grep


def plugins_command(
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """List loaded plugins with their distribution and entry point."""
    from rich.table import Table
    from uqa_data.registry import get_plugin_manager, plugin_sources
    from uqa_eval.report import print_table

    pm = get_plugin_manager()
    sources = plugin_sources()
    rows = []
    for name, plugin in pm.list_name_plugin():
        dist, ep = sources.get(name, ("?", name))
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        rows.append({"plugin": name, "distribution": dist, "entry_point": ep, "hooks": hooks})
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="uqa plugins")
    for col in ("plugin", "distribution", "entry point", "hooks"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["plugin"], r["distribution"], r["entry_point"], ", ".join(r["hooks"]))
    print_table(table)  # the listing is the output: stdout, so it pipes into grep


def _print_sizes(as_json: bool = False) -> None:
    """``--sizes``: every encoder's size presets, shapes and backbone parameters (rich or
    JSON)."""
    from uqa_encoders.sizes import encoder_size_rows

    rows = encoder_size_rows()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table
    from uqa_eval.report import print_table

    table = Table(title="encoder size presets")
    for col in ("encoder", "size", "shape", "backbone params", "paper (Table 5)"):
        table.add_column(col, justify="right" if col[0] in "bp" else "left")
    for r in rows:
        paper = r.get("paper_params")
        table.add_row(
            r["encoder"],
            r["size"],
            r["shape"],
            _human(r["backbone_params"]),
            _human(paper) if paper else "",
        )
    print_table(table)  # the listing is the output: stdout, so it pipes into grep


def _human(n: int) -> str:
    for unit, div in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= div:
            return f"{n / div:.2f}{unit}"
    return str(n)
