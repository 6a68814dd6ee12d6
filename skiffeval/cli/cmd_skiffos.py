"""``skiffeval skiffos list|resolve|configure``: real SkiffOS trees, with SkiffOS's answers and
the diagnostics SkiffOS lacks."""

from __future__ import annotations

import os
import shutil

import click

from skiffeval.cli.cmd_build import _print_report, _unique, diagnostics_from_json
from skiffeval.cli.common import Context, common_options
from skiffeval.cli.progress import Progress
from skiffeval.diagnostics import SkiffError


def _root_option(fn):
    fn = click.option("--config-path", "config_paths", multiple=True, metavar="NAME=DIR",
                      help="SKIFF_CONFIG_PATH_<KEY>: take package NAME (e.g. pi/4) from DIR (repeatable).")(fn)
    fn = click.option("--root", required=True, type=click.Path(exists=True, file_okay=False), help="The SkiffOS checkout.")(fn)
    fn = click.option("--extra-configs-path", "extra", multiple=True, metavar="DIR",
                      help="SKIFF_EXTRA_CONFIGS_PATH entry (repeatable, or colon-separated).")(fn)
    return fn


def _config_paths(items: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise click.BadParameter(f"expected NAME=DIR, found '{item}'", param_hint="--config-path")
        out[name] = os.path.abspath(path)
    return out


def _extra(extra: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for item in extra:
        out.extend(p for p in item.split(":") if p)
    return out


@click.group("skiffos")
def skiffos_group() -> None:
    """Read a SkiffOS checkout: list its packages, resolve SKIFF_CONFIG, configure it.

    \b
    Examples:
      skiffeval skiffos list --root ~/SkiffOS
      skiffeval skiffos resolve --root ~/SkiffOS --config pi/4,skiff/core
    """


@skiffos_group.command("list")
@_root_option
@click.option("--all", "show_all", is_flag=True, help="Also list packages marked unlisted.")
@common_options
def skiffos_list(root: str, extra: tuple[str, ...], config_paths: tuple[str, ...], show_all: bool, ctx: Context) -> None:
    """List the packages of a SkiffOS tree with their descriptions, as SkiffOS's `make` does.

    \b
    Example:
      skiffeval skiffos list --root ~/SkiffOS
    """
    from skiffeval import skiffos as sk

    discovery = sk.discover(os.path.abspath(root), _extra(extra), _config_paths(config_paths))
    diagnostics = sk.Diagnostics()
    rows = []
    # SkiffOS lists `env | sort` of SKIFF_CONFIG_PATH_<KEY>=<path> lines, in the C locale
    ordered = sorted(discovery.packages, key=lambda r: f"SKIFF_CONFIG_PATH_{r.key}={r.path}".encode())
    for ref in ordered:
        pkg = sk.read_package(ref.path, ref.name, ref.origin, diagnostics)
        if pkg.unlisted and not show_all:
            continue
        rows.append((ref.name, (pkg.description or "").strip(), pkg.unlisted))
    if ctx.output.json:
        ctx.output.data([{"name": n, "description": d, "unlisted": u} for n, d, u in rows])
    else:
        width = max((len(n) for n, _, _ in rows), default=0) + 2
        for name, description, _ in rows:
            ctx.output.result(f"{name.ljust(width)}{description}")
    ctx.output.diagnostics(list(discovery.warnings) + list(diagnostics.warnings))


@skiffos_group.command("resolve")
@_root_option
@click.option("--config", required=True, metavar="LIST", help="SKIFF_CONFIG, e.g. pi/4,skiff/core.")
@click.option("--workspace", default="default", show_default=True)
@common_options
def skiffos_resolve(root: str, extra: tuple[str, ...], config_paths: tuple[str, ...], config: str, workspace: str, ctx: Context) -> None:
    """Print the expanded chain of SKIFF_CONFIG, one package per line, in SkiffOS's order.

    \b
    Example:
      skiffeval skiffos resolve --root ~/SkiffOS --config skiff/core,apps/docker
    """
    from skiffeval import skiffos as sk

    chain = sk.load(os.path.abspath(root), config, extra_paths=_extra(extra), overrides=_config_paths(config_paths), workspace=workspace)
    names = list(chain.resolution.names)
    if ctx.output.json:
        ctx.output.data({"skiff_config": chain.resolution.skiff_config, "packages": names,
                         "chain": [{"role": e.role.value, "name": e.name, "path": e.path} for e in chain.entries]})
    else:
        for name in names:
            ctx.output.result(name)
    ctx.output.diagnostics(chain.warnings)


@skiffos_group.command("configure")
@_root_option
@click.option("--config", required=True, metavar="LIST", help="SKIFF_CONFIG, e.g. pi/4,skiff/core.")
@click.option("--workspace", default="default", show_default=True)
@click.option("--buildroot", type=click.Path(exists=True, file_okay=False), help="A Buildroot checkout: also write final/buildroot.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Where to write the configuration.")
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(1, 256))
@common_options
def skiffos_configure(root: str, extra: tuple[str, ...], config_paths: tuple[str, ...], config: str, workspace: str,
                      buildroot: str | None, out_dir: str, jobs: int, ctx: Context) -> None:
    """Configure like SkiffOS's `make configure`, through the store, and write the result to
    --out: skiff_config, buildroot/config, kernel/config, uboot/config, busybox/config, users,
    cflags, pre_build.sh, post_build.sh, report.json, and with --buildroot final/buildroot.

    \b
    Example:
      skiffeval skiffos configure --root ~/SkiffOS --config pi/4,skiff/core \\
          --buildroot ~/SkiffOS/buildroot --out build/pi4
    """
    if buildroot:
        ctx.set_overrides((f"buildroot={os.path.abspath(buildroot)}",))
    overrides = _config_paths(config_paths)
    key = ctx.cache_key({"cmd": "skiffos-configure", "root": os.path.abspath(root), "config": config,
                         "workspace": workspace, "extra": _extra(extra), "buildroot": bool(buildroot),
                         "config_paths": sorted(overrides.items())})
    record = ctx.cached(key)
    if record is None:
        record = _configure(ctx, root, extra, overrides, config, workspace, bool(buildroot), jobs)
        ctx.save_cache(key, record)
    else:
        ctx.output.detail("evaluation cache: nothing the last evaluation read has changed")
    store = ctx.store_root
    if ctx.output.verbosity >= 0:
        ctx.output.diagnostics(diagnostics_from_json(record["warnings"]))
    os.makedirs(out_dir, exist_ok=True)
    # as SkiffOS empties its config folder: nothing from an earlier run may stay beside this one
    for stale in ("final/buildroot", "report.json"):
        if os.path.lexists(os.path.join(out_dir, stale)):
            os.unlink(os.path.join(out_dir, stale))
    config_dir = os.path.join(store, record["config"])
    for rel in ("skiff_config", "buildroot/config", "kernel/config", "uboot/config", "busybox/config",
                "users", "cflags", "pre_build.sh", "post_build.sh", "bind_env.sh"):
        dest = os.path.join(out_dir, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        _copy(os.path.join(config_dir, rel), dest)
    report = {"diagnostics": record["warnings"]}
    if record.get("resolved"):
        os.makedirs(os.path.join(out_dir, "final"), exist_ok=True)
        _copy(os.path.join(store, record["resolved"], "config"), os.path.join(out_dir, "final", "buildroot"))
        _print_report(ctx, "final/buildroot", record["report"], os.path.join(out_dir, "report.json"))
        report = dict(record["report"], diagnostics=record["warnings"] + record["report"].get("diagnostics", []))
    import orjson  # ~150 kB for a real board: json's indenting encoder is pure Python (~40 ms)

    with open(os.path.join(out_dir, "report.json"), "wb") as f:
        f.write(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE))
    if ctx.output.json:
        ctx.output.data({"out": os.path.abspath(out_dir), "skiff_config": record["chain"],
                         "files": sorted(os.path.relpath(os.path.join(t, n), out_dir) for t, _, ns in os.walk(out_dir) for n in ns)})
    else:
        ctx.output.info(f"configured {record['chain']} in {out_dir}")


def _configure(ctx: Context, root: str, extra: tuple[str, ...], overrides: dict[str, str], config: str, workspace: str,
               with_buildroot: bool, jobs: int) -> dict:
    """Evaluate and realize a SkiffOS configuration; what the command prints, as data."""
    from skiffeval.session import resolved_report, skiffos_value

    session = ctx.session
    system = skiffos_value(session, root, config, workspace=workspace, extra_paths=_extra(extra), overrides=overrides)
    targets = session.derivations_of(system.values["config"], "config")
    if with_buildroot:
        targets += session.derivations_of(system.values["resolved"], "resolved")
    with Progress(ctx.output) as progress:
        outcome = session.realize_targets(targets, jobs=jobs, on_event=progress.event)
    paths = {label: path.basename for label, _, _, path in outcome.targets}
    record = {"config": paths["config"], "resolved": paths.get("resolved"), "report": None, "chain": system.values["chain"],
              "warnings": [w.to_json() for w in _unique(session.warnings)]}
    if with_buildroot:
        _, drv, _, _ = next(t for t in outcome.targets if t[0] == "resolved")
        full = resolved_report(session, drv, outcome.result.outputs[drv.key])
        record["report"] = full
    return record


def _copy(src, dest: str) -> None:
    if os.path.lexists(dest):
        os.unlink(dest)
    shutil.copyfile(src, dest)
    os.chmod(dest, 0o755 if os.access(src, os.X_OK) else 0o644)


_ = SkiffError
