"""``skiffeval build``: evaluate, then realize the selected derivations into the store."""

from __future__ import annotations

import click

from skiffeval.cli.common import Context, common_options, file_options
from skiffeval.cli.progress import Progress
from skiffeval.diagnostics import Diagnostic, Note, Severity, Source, Span, all_codes
from skiffeval.session import BuildRequest, resolved_report


@click.command("build")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("-A", "--attr", "attrs_", multiple=True, metavar="ATTR", help="Build this attribute (repeatable; default: the value itself).")
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(1, 256), help="Derivations built at once.")
@click.option("--dry-run", is_flag=True, help="Say what would be built and what is valid; build nothing.")
@click.option("-o", "--out-link", default="result", show_default=True, metavar="LINK", help="Name of the symlink to the output (a GC root).")
@click.option("--no-out-link", is_flag=True, help="Do not create an out-link.")
@click.option("--keep-going", is_flag=True, help="Build everything that does not depend on a failure.")
@click.option("--print-out-paths", is_flag=True, help="Print the output store paths on stdout.")
@click.option("--override-input", "overrides", multiple=True, metavar="NAME=PATH", help="Use PATH (hashed into the store) for the input NAME, e.g. buildroot.")
@file_options
@common_options
def build_command(files, attrs_, jobs, dry_run, out_link, no_out_link, keep_going, print_out_paths, overrides, args, ctx: Context) -> None:
    """Build FILE (its value, or the attributes given with -A) into the store.

    A system's value is its default bundle (configs, overlay, patches, external trees, hooks);
    -A selects one of its derivations (config, resolved, kernel_config, overlay, ...).

    \b
    Examples:
      skiffeval build layers/boards/qemu-x86_64.sk
      skiffeval build board.sk -A resolved --override-input buildroot=~/src/buildroot
      skiffeval build board.sk -A config -A overlay --dry-run
    """
    ctx.set_overrides(overrides)
    session = ctx.session
    requests = [BuildRequest(f, tuple(attrs_), args) for f in files]
    progress = Progress(ctx.output)
    outcome = session.build(
        requests,
        jobs=jobs,
        keep_going=keep_going,
        dry_run=dry_run,
        out_link=None if (no_out_link or dry_run) else out_link,
        on_event=progress.event,
    )
    ctx.output.diagnostics(session.warnings)
    if dry_run:
        progress.plan(outcome.result)
        return
    progress.summary(outcome)
    for label, drv, output, path in outcome.targets:
        report = resolved_report(session, drv, outcome.result.outputs[drv.key])
        if report is not None and not ctx.output.json:
            _print_report(ctx, label or drv.name, report, session.store.real_path(outcome.result.outputs[drv.key]["report"]))
    for label, drv, output, path in outcome.targets:
        text = str(session.store.real_path(path))
        if print_out_paths or ctx.output.json:
            continue
        ctx.output.info(f"{label or drv.name}: {text}")
    if ctx.output.json:
        ctx.output.data({
            "outputs": [
                {"attr": label, "name": drv.name, "drv": drv.key, "output": output, "path": str(session.store.real_path(path))}
                for label, drv, output, path in outcome.targets
            ],
            "links": list(outcome.links),
            "built": len(outcome.result.built),
            "cutoff": len(outcome.result.cutoff),
        })
    elif print_out_paths:
        for _, _, _, path in outcome.targets:
            ctx.output.result(str(session.store.real_path(path)))


def _span(loc: dict | None) -> Span | None:
    """A span from a report location, with the file's text for the caret when it is readable."""
    if not loc:
        return None
    source = None
    try:
        with open(loc["file"], encoding="utf-8") as f:
            source = Source(loc["file"], f.read())
    except (OSError, UnicodeDecodeError):
        pass
    return Span(loc["file"], loc["line"], loc["column"], loc.get("end_line", loc["line"]), loc.get("end_column", loc["column"]), source)


def _print_report(ctx: Context, label: str, report: dict, where) -> None:
    """The short summary of a provenance report, and its warnings and errors as diagnostics."""
    s = report["summary"]
    ctx.output.info(
        f"{label}: {s['symbols']} symbols set by {s['fragments']} fragments: {s['took_effect']} took effect, "
        f"{s['not_taken']} did not, {s['unknown']} unknown, {s['set_more_than_once']} set more than once "
        f"({s['errors']} errors, {s['warnings']} warnings); full report: {where}/report.txt"
    )
    codes = {c.code: c for c in all_codes()}
    diags = []
    for d in report.get("diagnostics", []):
        code = codes.get(d["code"])
        if code is None or d["severity"] == "info":
            continue
        diags.append(Diagnostic(
            Severity(d["severity"]), code, d["message"], _span(d.get("location")), tuple(d.get("help", ())),
            tuple(Note(n["message"], _span(n.get("location"))) for n in d.get("notes", ())),
        ))
    ctx.output.diagnostics(diags)
