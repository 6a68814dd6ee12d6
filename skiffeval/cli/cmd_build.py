"""``skiffeval build``: evaluate, then realize the selected derivations into the store.

What a build prints is assembled into a *record* (outputs, warnings, report summaries), printed
the same way whether it was just built or answered by the evaluation cache
(``skiffeval.session.evalcache``), which makes a no-op build cost a few ``stat`` calls.
"""

from __future__ import annotations

import os
from typing import Any

import click

from skiffeval.cli.common import Context, common_options, count, file_options
from skiffeval.cli.progress import Progress
from skiffeval.diagnostics import Diagnostic, ErrorCode, Note, Severity, Source, Span, all_codes
from skiffeval.session import evalcache


@click.command("build")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("-A", "--attr", "attrs_", multiple=True, metavar="ATTR", help="Build this attribute (repeatable; default: the value itself).")
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(1, 256), help="Derivations built at once.")
@click.option("--cores", default=None, type=click.IntRange(0, 1024), metavar="N",
              help="make jobs inside one Buildroot build (BR2_JLEVEL; 0 = all CPUs). Default: the configuration's BR2_JLEVEL. Not part of any hash.")
@click.option("--dry-run", is_flag=True, help="Say what would be built and what is valid; build nothing.")
@click.option("-o", "--out-link", default="result", show_default=True, metavar="LINK", help="Name of the symlink to the output (a GC root).")
@click.option("--no-out-link", is_flag=True, help="Do not create an out-link.")
@click.option("--keep-going", is_flag=True, help="Build everything that does not depend on a failure.")
@click.option("--print-out-paths", is_flag=True, help="Print the output store paths on stdout.")
@click.option("--override-input", "overrides", multiple=True, metavar="NAME=PATH", help="Use PATH (hashed into the store) for the input NAME, e.g. buildroot.")
@click.option("--dl-dir", metavar="DIR", type=click.Path(file_okay=False), help="Buildroot's download cache (BR2_DL_DIR; default: <store>/.skiffeval/dl). Not part of any hash.")
@click.option("--ccache-dir", metavar="DIR", type=click.Path(file_okay=False), help="A ccache directory for Buildroot builds (not part of any hash).")
@click.option("--pure", is_flag=True, help="Build images from an empty build directory (not the kept incremental one).")
@click.option("--no-eval-cache", is_flag=True, envvar="SKIFFEVAL_NO_EVAL_CACHE", help="Evaluate even when nothing the last evaluation read has changed.")
@file_options
@common_options
def build_command(files, attrs_, jobs, cores, dry_run, out_link, no_out_link, keep_going, print_out_paths, overrides,
                  dl_dir, ccache_dir, pure, no_eval_cache, args, ctx: Context) -> None:
    """Build FILE (its value, or the attributes given with -A) into the store.

    A system's value is its default bundle (configs, overlay, patches, external trees, hooks);
    -A selects one of its derivations (config, resolved, kernel_config, overlay, ...).

    \b
    Examples:
      skiffeval build layers/boards/qemu-x86_64.sk
      skiffeval build board.sk -A resolved --override-input buildroot=~/src/buildroot
      skiffeval build board.sk -A config -A overlay --dry-run
    """
    from skiffeval.session import BuildRequest

    ctx.set_overrides(overrides)
    link = None if (no_out_link or dry_run) else out_link
    use_cache = not (no_eval_cache or dry_run)
    key = ctx.cache_key({"cmd": "build", "files": [os.path.abspath(f) for f in files], "attrs": list(attrs_)}, args)
    record = ctx.cached(key) if use_cache else None
    if record is not None:
        ctx.output.detail("evaluation cache: nothing the last evaluation read has changed")
        if link:
            ctx.relink(record, link)
    else:
        session = ctx.session
        requests = [BuildRequest(f, tuple(attrs_), args) for f in files]
        with Progress(ctx.output) as progress:
            session.configure_images(dl_dir=dl_dir, ccache_dir=ccache_dir, pure=pure, jobs=cores,
                                     on_progress=progress.buildroot, on_line=progress.buildroot_line)
            outcome = session.build(requests, jobs=jobs, keep_going=keep_going, dry_run=dry_run, out_link=link, on_event=progress.event)
        if dry_run:
            ctx.output.diagnostics(session.warnings)
            progress.plan(outcome.result)
            return
        progress.summary(outcome)
        record = build_record(session, outcome)
        if use_cache:
            ctx.save_cache(key, record)
    print_record(ctx, record, print_out_paths)


def build_record(session: Any, outcome: Any) -> dict[str, Any]:
    """What a finished build prints, as JSON-able data (also what the evaluation cache keeps)."""
    from skiffeval.session import resolved_report

    reports = []
    for label, drv, _output, _path in outcome.targets:
        outputs = outcome.result.outputs[drv.key]
        report = resolved_report(session, drv, outputs)
        if report is not None:
            reports.append({
                "label": label or drv.name,
                "summary": report["summary"],
                "diagnostics": report.get("diagnostics", []),
                "where": str(session.store.real_path(outputs["report"])) + "/report.txt",
            })
    return {
        "targets": [
            {"attr": label, "name": drv.name, "drv": drv.key, "output": output, "path": path.basename}
            for label, drv, output, path in outcome.targets
        ],
        "links": list(outcome.links),
        "warnings": [w.to_json() for w in _unique(session.warnings)],
        "reports": reports,
        "built": len(outcome.result.built),
        "cutoff": len(outcome.result.cutoff),
    }


def _unique(diags: list) -> list:
    seen, out = set(), []
    for d in diags:
        key = (d.code.code, d.message, str(d.span))
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def print_record(ctx: Context, record: dict[str, Any], print_out_paths: bool = False) -> None:
    store_root = ctx.store_root
    if ctx.output.verbosity >= 0:
        ctx.output.diagnostics(diagnostics_from_json(record["warnings"]))
    for report in record["reports"]:
        _print_report(ctx, report["label"], report, report["where"])
    if ctx.output.json:
        ctx.output.data({
            "outputs": [dict(t, path=os.path.join(store_root, t["path"])) for t in record["targets"]],
            "links": record["links"],
            "built": record["built"],
            "cutoff": record["cutoff"],
        })
        return
    for t in record["targets"]:
        path = os.path.join(store_root, t["path"])
        if print_out_paths:
            ctx.output.result(path)
        else:
            ctx.output.info(f"{t['attr'] or t['name']}: {path}")


def _span(loc: dict | None) -> Span | None:
    """A span from a JSON location, with the file's text for the caret when it is readable."""
    if not loc:
        return None
    source = None
    try:
        with open(loc["file"], encoding="utf-8") as f:
            source = Source(loc["file"], f.read())
    except (OSError, UnicodeDecodeError):
        pass
    return Span(loc["file"], loc["line"], loc["column"], loc.get("end_line", loc["line"]), loc.get("end_column", loc["column"]), source)


def diagnostics_from_json(items: list[dict]) -> list[Diagnostic]:
    """Diagnostics back from their JSON form (``Diagnostic.to_json``), for printing.  A code
    comes back as its registered ``ErrorCode`` when its domain is loaded, else from the JSON's
    code and slug (all printing needs): a warm, cached command does not import kconfig or
    skiffos to print the warnings it saved."""
    codes = {c.code: c for c in all_codes()}
    out = []
    for d in items:
        if d["severity"] == "info":
            continue
        code = codes.get(d["code"]) or ErrorCode(d["code"], d.get("slug", ""), "saved", "")
        out.append(Diagnostic(
            Severity(d["severity"]), code, d["message"], _span(d.get("location")), tuple(d.get("help", ())),
            tuple(Note(n["message"], _span(n.get("location"))) for n in d.get("notes", ())),
            tuple(Note(n["message"], _span(n.get("location"))) for n in d.get("related", ())),
        ))
    return out


def _print_report(ctx: Context, label: str, report: dict, where) -> None:
    """The short summary of a provenance report, and its warnings and errors as diagnostics."""
    s = report["summary"]
    ctx.output.info(
        f"{label}: {s['symbols']} symbols set by {s['fragments']} fragments: {s['took_effect']} took effect, "
        f"{s['not_taken']} did not, {s['unknown']} unknown, {s['set_more_than_once']} set more than once "
        f"({count(s['errors'], 'error')}, {count(s['warnings'], 'warning')}); full report: {where}"
    )
    if ctx.output.verbosity >= 0:
        ctx.output.diagnostics(diagnostics_from_json(report.get("diagnostics", [])))


_ = evalcache
