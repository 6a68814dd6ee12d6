"""``skiffeval layers``: list the layers of a board or of a directory of layers."""

from __future__ import annotations

import click

from skiffeval.cli.common import Context, common_options, count
from skiffeval.diagnostics import SkiffError
from skiffeval.session.codes import BAD_LAYER


@click.command("layers")
@click.argument("target", default="layers", required=False)
@click.option("--all", "show_all", is_flag=True, help="Also list layers marked 'unlisted'.")
@common_options
def layers_command(target: str, show_all: bool, ctx: Context) -> None:
    """List the layers reachable from a board FILE, or found under DIR (default: ./layers),
    with their descriptions.

    \b
    Examples:
      skiffeval layers layers/
      skiffeval layers layers/boards/pi4.sk --json
    """
    from skiffeval.session.listing import list_layers

    listing = list_layers(ctx.session, target)
    shown = [entry for entry in listing.layers if show_all or not entry.unlisted]
    if ctx.output.json:
        ctx.output.data({
            "layers": [{"name": e.name, "description": e.description, "unlisted": e.unlisted, "file": e.file, "depends": list(e.depends)} for e in shown],
            "systems": [{"name": s.name, "file": s.file, "layers": list(s.layers)} for s in listing.systems],
        })
    else:
        width = max((len(e.name) for e in shown), default=0) + 2
        for e in shown:
            ctx.output.result(f"{e.name.ljust(width)}{e.description}")
        for s in listing.systems:
            ctx.output.result(f"\nsystem {s.name} ({s.file}): {', '.join(s.layers)}")
    from skiffeval.cli.cmd_build import _unique

    ctx.output.diagnostics(_unique(ctx.session.warnings))  # (e.g. W153: a layer shadowed by its name)
    ctx.output.diagnostics(listing.errors)
    if listing.errors:
        raise SkiffError(BAD_LAYER, f"{count(len(listing.errors), 'file')} could not be listed (see above)")
