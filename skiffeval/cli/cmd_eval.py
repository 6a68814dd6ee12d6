"""``skiffeval eval``: print the value of a file or expression."""

from __future__ import annotations

import click

from skiffeval.cli.common import Context, common_options, file_options


@click.command("eval")
@click.argument("file", required=False, type=click.Path(dir_okay=True))
@click.option("-A", "--attr", "attrs_", multiple=True, metavar="ATTR.PATH", help="Print this attribute of the value (repeatable).")
@click.option("-E", "--expr", "expr", metavar="EXPR", help="Evaluate EXPR instead of a file.")
@click.option("--strict", is_flag=True, help="Force the whole value (otherwise unevaluated parts print as <CODE>).")
@file_options
@common_options
def eval_command(file: str | None, attrs_: tuple[str, ...], expr: str | None, strict: bool, args: dict, ctx: Context) -> None:
    """Evaluate FILE (or --expr) and print its value.

    A file whose value is a function of an attribute set is called with the --arg/--argstr
    values (its defaults for the rest), as Nix does.

    \b
    Examples:
      skiffeval eval layers/boards/qemu-x86_64.sk -A layers --json
      skiffeval eval --expr 'builtins.map (x: x * 2) [ 1 2 3 ]'
      skiffeval eval board.sk --argstr hostname garage --strict
    """
    session = ctx.session
    deep = strict or ctx.output.json
    if expr is not None:
        if file is not None:
            raise click.UsageError("give either FILE or --expr, not both")
        values = [session.evaluate_expression(expr, args, deep=deep)]
        if attrs_:
            values = [session.evaluator.select_path(values[0], a) for a in attrs_]
    else:
        if file is None:
            raise click.UsageError("missing FILE (or --expr EXPR)")
        values = session.evaluate(file, attrs_, args, deep=deep)
    for value in values:
        ctx.output.result(session.render(value, json=ctx.output.json, strict=deep))
    if ctx.output.verbosity >= 0:
        from skiffeval.cli.cmd_build import _unique

        ctx.output.diagnostics(_unique(session.warnings))
