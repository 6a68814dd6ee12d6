"""``skiffeval show-derivation`` and ``skiffeval store verify|gc|info|rebuild-db``."""

from __future__ import annotations

import json
import os

import attrs
import click

from skiffeval.cli.common import Context, common_options, count, file_options
from skiffeval.diagnostics import SkiffError
from skiffeval.session.codes import NOT_BUILDABLE


@click.command("show-derivation")
@click.argument("target")
@click.option("-r", "--recursive", is_flag=True, help="Also show every input derivation, transitively.")
@file_options
@common_options
def show_derivation(target: str, recursive: bool, args: dict, ctx: Context) -> None:
    """Show the derivation TARGET names (FILE[#ATTR], a store path, a .drv path or an out-link)
    as its canonical JSON (the pre-image of its key).

    \b
    Examples:
      skiffeval show-derivation layers/boards/qemu-x86_64.sk#config
      skiffeval show-derivation ./result --recursive
    """
    from skiffeval.derivation import encode_drv
    from skiffeval.session.targets import resolve_target

    session = ctx.session
    found = resolve_target(session, target, args)
    docs: dict[str, dict] = {}
    stack = [t.drv for t in found if t.drv is not None]
    if not stack:
        raise SkiffError(NOT_BUILDABLE, f"'{target}' has no derivation (a source path?)")
    by_ref = dict(session.table.by_ref)
    while stack:
        drv = stack.pop()
        if drv.key in docs:
            continue
        docs[drv.key] = json.loads(encode_drv(drv))
        if not recursive:
            continue
        for inp in drv.input_drvs.values():
            dep = by_ref.get(inp.key) or session.store.read_derivation(inp.key)
            if dep is not None:
                stack.append(dep)
    ordered = {f"{k}-{docs[k]['name']}.drv": docs[k] for k in sorted(docs)}
    ctx.output.data(ordered)


@click.group("store")
def store_group() -> None:
    """Look after the store: verify, collect garbage, show statistics, rebuild the database.

    \b
    Examples:
      skiffeval store info
      skiffeval store gc --dry-run
    """


@store_group.command("verify")
@click.option("--check-contents", is_flag=True, help="Re-hash every path and compare with the recorded hashes.")
@click.option("--repair", is_flag=True, help="Unregister corrupt paths (they are rebuilt on next use) and remove garbage.")
@common_options
def store_verify(check_contents: bool, repair: bool, ctx: Context) -> None:
    """Check that every registered path exists (and, with --check-contents, is unchanged).

    \b
    Example:
      skiffeval store verify --check-contents
    """
    report = _existing_store(ctx).verify(check_contents=check_contents, repair=repair)
    if ctx.output.json:
        ctx.output.data(_doc(report))
    else:
        ctx.output.result(f"checked {count(report.checked, 'path')}: {count(len(report.problems), 'problem')}, "
                          f"{count(len(report.garbage), 'unregistered entry', 'unregistered entries')}")
        for p in report.problems:
            detail = f" (expected {p.expected}, found {p.actual})" if p.expected or p.actual else ""
            ctx.output.result(f"  {p.problem}: {p.path}{detail}")
        for g in report.garbage:
            ctx.output.result(f"  garbage: {g}")
        for r in report.repaired:
            ctx.output.result(f"  repaired: {r}")
    if not report.ok and not repair:
        from skiffeval.store.codes import STORE_CORRUPT

        raise SkiffError(STORE_CORRUPT, f"the store has {count(len(report.problems), 'corrupt path')}", help=["run 'skiffeval store verify --repair'"])


@store_group.command("gc")
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
@common_options
def store_gc(dry_run: bool, ctx: Context) -> None:
    """Delete every store path no root reaches (roots: revisions, out-links, running builds),
    and the build directories failed --pure image builds left for their logs.

    \b
    Example:
      skiffeval store gc --dry-run
    """
    from skiffeval.builders.buildroot_image import leftover_pure_builds

    report = _existing_store(ctx).gc(dry_run=dry_run)
    pure = leftover_pure_builds(ctx.session.store.root, delete=not dry_run)
    if not dry_run:
        from skiffeval.session.drvindex import prune_index

        prune_index(ctx.session.store)  # the query index forgets what was deleted
    if ctx.output.json:
        doc = _doc(report)
        doc["pure_builds"] = [{"path": path, "bytes": size} for path, size in pure]
        ctx.output.data(doc)
        return
    verb = "would delete" if dry_run else "deleted"
    ctx.output.result(f"{verb} {len(report.deleted)} entries, {_size(report.freed_bytes)} freed; {report.kept} kept")
    for name in report.deleted:
        ctx.output.detail(f"  {name}")
    if pure:
        ctx.output.result(f"{verb} {len(pure)} failed --pure build directories, {_size(sum(s for _p, s in pure))} freed")
        for path, _size_ in pure:
            ctx.output.detail(f"  {path}")


@store_group.command("info")
@common_options
def store_info(ctx: Context) -> None:
    """Counts and sizes of what the store holds.

    \b
    Example:
      skiffeval store info --json
    """
    info = _existing_store(ctx).info()
    if ctx.output.json:
        ctx.output.data(_doc(info))
        return
    for field in attrs.fields(type(info)):
        value = getattr(info, field.name)
        ctx.output.result(f"{field.name:14} {_size(value) if field.name.endswith(('size', 'bytes')) else value}")


@store_group.command("rebuild-db")
@common_options
def store_rebuild_db(ctx: Context) -> None:
    """Rebuild the metadata database from the .drv files and outputs in the store.

    \b
    Example:
      skiffeval store rebuild-db
    """
    report = _existing_store(ctx, metadata_lost=True).rebuild_db()
    if ctx.output.json:
        ctx.output.data(_doc(report))
        return
    ctx.output.result(f"{report.derivations} derivations, {report.paths} paths, {report.realisations} realisations recovered")
    for item in report.lost:
        ctx.output.result(f"  lost: {item}")
    for item in report.skipped:
        ctx.output.result(f"  skipped: {item}")


def _existing_store(ctx: Context, *, metadata_lost: bool = False):
    """The session's store, which must exist: a maintenance command never creates one (a
    mistyped ``--store`` would otherwise get an empty store and a report of nothing).  With
    ``metadata_lost`` (``rebuild-db``) the directory is enough: its metadata may be gone."""
    root = ctx.session.store_dir
    if not os.path.isdir(os.path.join(root, ".skiffeval")) and not (metadata_lost and os.path.isdir(root)):
        from skiffeval.store.codes import NO_STORE

        raise SkiffError(NO_STORE, f"there is no store at '{root}'",
                         help=["a build creates one; check --store (or SKIFFEVAL_STORE)"])
    return ctx.session.store


def _doc(record) -> dict:
    def convert(v):
        if attrs.has(type(v)):
            return {f.name: convert(getattr(v, f.name)) for f in attrs.fields(type(v))}
        if isinstance(v, (list, tuple)):
            return [convert(x) for x in v]
        if isinstance(v, (str, int, float, bool)) or v is None:
            return v
        return str(v)

    return convert(record)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)

