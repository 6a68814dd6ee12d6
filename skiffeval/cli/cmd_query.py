"""``skiffeval query tree|graph|references|referrers|requisites``, ``why-depends`` and
``path-info``: one call each into ``skiffeval.session.queries``, then printing.

A TARGET is ``FILE[#ATTR]`` (evaluated, or what the evaluation cache kept of a built one: see
``_targets``), a store path, a ``.drv`` path or an out-link (read from the store alone).  The
derivation graph is the default; ``--outputs`` queries the realized outputs' references
instead.  Text goes to stdout; ``--json`` prints the schema of docs/cli.md.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any, Callable

import click

from skiffeval.cli.common import Context, common_options, count, file_options
from skiffeval.cli.completion import complete_target
from skiffeval.cli.output import json_line
from skiffeval.cli.treetext import render_tree, tree_text
from skiffeval.diagnostics import SkiffError


def _query_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--override-input", "overrides", multiple=True, metavar="NAME=PATH",
                      help="Use PATH for the input NAME when evaluating FILE (as 'build' does).")(fn)
    return fn


def _outputs_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--outputs", "outputs", is_flag=True,
                        help="Query the realized outputs and their references (run-time) instead of the derivations.")(fn)


@contextlib.contextmanager
def _collector(enabled: bool) -> Iterator[None]:
    """Run the block with Python's cyclic garbage collector on (or off), as it was after.  What
    was made while it was off is frozen while it is on: the block's collections leave it be
    (the first one would otherwise scan every object the query has made so far)."""
    was = gc.isenabled()
    if enabled == was:
        yield
        return
    if enabled:
        gc.freeze()
        gc.enable()
    else:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.disable()
            gc.unfreeze()
        else:
            gc.enable()


def _without_cyclic_gc(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run a query command with the cyclic garbage collector paused, except while it evaluates
    its targets (``_targets``: an evaluation makes cycles).  Why: a query over 10,000
    derivations makes some 10^5 records, tuples and lines that live until it has printed; the
    collector would scan them again and again as they pile up (a quarter of ``query tree``'s
    time) and find nothing to free.  Reference counting still frees what the query drops."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _collector(False):
            return fn(*args, **kwargs)

    return wrapper


def _targets(ctx: Context, target: str, args: dict, overrides: tuple[str, ...]) -> list[Any]:
    """What TARGET names.  A ``FILE[#ATTR]`` is evaluated — unless the evaluation cache kept
    its targets and nothing that evaluation read has changed (as a no-op build; not with
    ``SKIFFEVAL_NO_EVAL_CACHE``): then they are read from the store."""
    from skiffeval.session.targets import file_target, split_target, store_target, targets_of_record, targets_record

    ctx.set_overrides(overrides)
    session = ctx.session
    found = store_target(session, target)
    if found is not None:
        return found
    key = None
    # (read as click reads the variable for `build --no-eval-cache`)
    no_cache = os.environ.get("SKIFFEVAL_NO_EVAL_CACHE", "").strip().lower() in ("1", "true", "t", "yes", "y", "on")
    if not no_cache:
        file, attr = split_target(target)
        key = ctx.cache_key({"cmd": "query-targets", "file": os.path.abspath(os.path.join(ctx.options.cwd, file)),
                             "attr": attr}, args)
        record = ctx.cached(key)
        found = targets_of_record(session, record) if record is not None else None
        if found is not None:
            return found
    with _collector(True):
        found = file_target(session, target, args)
    if key is not None:
        record = targets_record(session, found)
        if record is not None:
            ctx.save_cache(key, record)
    return found


def _graph(ctx: Context, target: str, args: dict, overrides: tuple[str, ...], outputs: bool, depth: int | None = None):
    from skiffeval.session.queries import graph_of

    return graph_of(ctx.session, _targets(ctx, target, args, overrides), outputs=outputs, depth=depth)


# ---------------------------------------------------------------------------------------------
# rendering


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_FILL = {"built": "#b7e4c7", "not built": "#ffffff", "source": "#d6e4f0", "missing": "#f4c7c3"}


def render_dot(graph: Any) -> str:
    """The graph in Graphviz's language: nodes labelled ``name`` and ``[kind]``, filled by
    state (green built, white dashed not built, blue sources), edges labelled by slot.  Each
    node's quoted id and each distinct edge label are made once."""
    lines = [
        "digraph skiffeval {",
        '  graph [rankdir=TB, fontname="Helvetica", fontsize=10, labelloc=b,'
        ' label="green: built · white, dashed: not built · blue: source"];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=8, color="#666666"];',
    ]
    quoted: dict[str, str] = {}  # node id -> its quoted id
    for nid, n in graph.nodes.items():
        if n.kind == "missing":
            fill, style = _FILL["missing"], "rounded,filled"
        elif n.type == "source":
            fill, style = _FILL["source"], "filled"
        elif n.built:
            fill, style = _FILL["built"], "rounded,filled"
        else:
            fill, style = _FILL["not built"], "rounded,filled,dashed"
        shape = ", shape=note" if n.type == "source" else ""
        label = _dot_id(n.name)[:-1] + "\\n[" + _dot_id(n.kind)[1:-1] + ']"'
        q = quoted[nid] = _dot_id(nid)
        lines.append(f'  {q} [label={label}, fillcolor="{fill}", style="{style}"{shape}, tooltip={q}];')
    attrs: dict[tuple[str, tuple[str, ...]], str] = {}  # (slot, outputs) -> " [label=...]"
    for edges in graph.children.values():
        for _parent, child, slot, outputs in edges:
            attr = attrs.get((slot, outputs))
            if attr is None:
                label = slot + (f" ({', '.join(outputs)})" if outputs and outputs != ("out",) else "")
                attr = attrs[(slot, outputs)] = f" [label={_dot_id(label)}]" if label else ""
            lines.append(f"  {quoted[_parent]} -> {quoted.get(child) or _dot_id(child)}{attr};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_svg(dot_text: str) -> str:
    from skiffeval.session.queries import GRAPHVIZ_FAILED

    program = shutil.which("dot")
    if program is None:
        raise SkiffError(GRAPHVIZ_FAILED, "cannot draw an SVG: Graphviz's 'dot' is not installed",
                         help=["install Graphviz (Debian: apt-get install graphviz), or use --format dot"])
    proc = subprocess.run([program, "-Tsvg"], input=dot_text, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SkiffError(GRAPHVIZ_FAILED, f"Graphviz's 'dot' failed (exit status {proc.returncode}): {proc.stderr.strip()[:500]}")
    return proc.stdout


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(n)


def _data(ctx: Context, doc: Any) -> None:
    """A JSON document on stdout, on one line (``json_line``).  Why not ``Output.data``
    (indented): with an indent ``json.dumps`` runs its pure-Python encoder, several times slower
    than the document's query on a 10,000-node graph."""
    ctx.output.result(json_line(doc))


def _lines_json(lines: list[Any]) -> list[dict[str, Any]]:
    """Tree lines as JSON (``TreeLine.to_json``, inlined: a tree has ~30,000 lines); each site's
    document is made once, however many lines show it."""
    out = []
    said: dict[Any, dict[str, Any]] = {}
    for depth, nid, edge, shared, _last, sites in lines:
        doc = {"depth": depth, "node": nid, "slot": edge.slot if edge else None, "shared": shared}
        if sites:
            doc["sites"] = [said.get(s) or said.setdefault(s, s.to_json()) for s in sites]
        out.append(doc)
    return out


def _nodes_out(ctx: Context, root: str, nodes: list[Any]) -> None:
    if ctx.output.json:
        _data(ctx, [n.to_json(root) for n in nodes])
    elif nodes:
        ctx.output.result("\n".join([f"{root}/{n.id}" for n in nodes]))


# ---------------------------------------------------------------------------------------------
# commands


@click.group("query")
def query_group() -> None:
    """Query the derivation graph of a TARGET (FILE[#ATTR], a store path, a .drv path or an
    out-link): its tree, a picture, references, referrers and closure.

    \b
    Examples:
      skiffeval query tree layers/boards/qemu-x86_64.sk
      skiffeval query graph ./result --format svg > graph.svg
      skiffeval query requisites ./result --outputs
    """


@query_group.command("tree")
@click.argument("target", shell_complete=complete_target)
@_outputs_option
@click.option("--depth", type=click.IntRange(0), metavar="N", help="Show N levels below the target.")
@_query_options
@file_options
@common_options
@_without_cyclic_gc
def query_tree(target: str, outputs: bool, depth: int | None, overrides: tuple, args: dict, ctx: Context) -> None:
    """Print the dependency tree of TARGET: each input with the slot that reads it, its kind and
    whether it is built.  A sub-tree shown once is not repeated: later lines say [see above].

    \b
    Examples:
      skiffeval query tree layers/boards/qemu-x86_64.sk#config
      skiffeval query tree ./result --outputs --depth 1
    """
    from skiffeval.session.queries import tree_lines

    graph = _graph(ctx, target, args, overrides, outputs, depth)
    if not ctx.output.json:
        ctx.output.result(tree_text(graph, ctx.session, depth=depth))
        return
    root = str(ctx.session.store.root)
    _data(ctx, {"roots": graph.roots, "nodes": {n.id: n.to_json(root) for n in graph.nodes.values()},
                "lines": _lines_json(tree_lines(graph, depth=depth))})


@query_group.command("graph")
@click.argument("target", shell_complete=complete_target)
@click.option("--format", "fmt", type=click.Choice(["dot", "svg", "json"]), default="dot", show_default=True,
              help="Graphviz text, an SVG picture (through Graphviz's 'dot'), or JSON (also --json).")
@click.option("-o", "--output", "out_file", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="Write to FILE instead of stdout.")
@_outputs_option
@_query_options
@file_options
@common_options
@_without_cyclic_gc
def query_graph(target: str, fmt: str, out_file: str | None, outputs: bool, overrides: tuple, args: dict, ctx: Context) -> None:
    """Draw the graph of TARGET: nodes labelled by name and kind (fragment, config, overlay,
    patches, image, ...), filled by state (green: built, white: not built, blue: source), edges
    labelled by the input slot.

    \b
    Examples:
      skiffeval query graph layers/boards/qemu-x86_64.sk --format svg -o board.svg
      skiffeval query graph ./result | dot -Tpng > board.png
      skiffeval query graph ./result --format json
    """

    graph = _graph(ctx, target, args, overrides, outputs)
    end = ""  # what a file gets after the text (stdout gets one newline)
    if ctx.output.json or fmt == "json":
        text, end = json_line(graph.to_json(str(ctx.session.store.root))), "\n"
    else:
        text = render_dot(graph)  # ends with a newline
        if fmt == "svg":
            text = render_svg(text)
    if out_file:
        with open(os.path.join(ctx.options.cwd, out_file), "w", encoding="utf-8") as f:
            f.write(text)
            f.write(end)
        ctx.output.info(f"wrote {out_file} ({len(graph.nodes)} nodes)")
    else:
        ctx.output.result(text.rstrip("\n") if fmt == "svg" else text)


def _list_command(name: str, doc: str) -> Callable[..., Any]:
    @query_group.command(name, help=doc)
    @click.argument("target", shell_complete=complete_target)
    @_outputs_option
    @_query_options
    @file_options
    @common_options
    @_without_cyclic_gc
    def command(target: str, outputs: bool, overrides: tuple, args: dict, ctx: Context) -> None:
        from skiffeval.session import queries

        graph = _graph(ctx, target, args, overrides, outputs, depth={"references": 1, "referrers": 0}.get(name))
        root = str(ctx.session.store.root)
        if name == "references":
            seen: dict[str, None] = {}
            for r in graph.roots:
                for e in graph.children.get(r, ()):
                    seen.setdefault(e.child)
            nodes = [graph.nodes[i] for i in seen]
        elif name == "referrers":
            nodes = queries.referrers(ctx.session, graph)
        else:
            nodes = [graph.nodes[i] for i in queries.requisites(graph)]
        _nodes_out(ctx, root, nodes)

    return command


query_references = _list_command("references", """Print what TARGET reads directly: its input derivations and sources (with
--outputs: the store paths its output's bytes mention), one store path a line.

\b
Examples:
  skiffeval query references layers/boards/qemu-x86_64.sk#config
  skiffeval query references ./result --outputs --json
""")
query_referrers = _list_command("referrers", """Print what reads TARGET: the derivations that take it as an input (this
evaluation's and every one in the store), or with --outputs the valid paths that refer to it.

\b
Examples:
  skiffeval query referrers ./store/<digest>-kernel.conf
  skiffeval query referrers board.sk#kernel_config --json
""")
query_requisites = _list_command("requisites", """Print the closure of TARGET (everything it needs, itself included),
dependencies before their dependents, one store path a line.

\b
Examples:
  skiffeval query requisites ./result
  skiffeval query requisites ./result --outputs --json
""")


@click.command("why-depends")
@click.argument("target", shell_complete=complete_target)
@click.argument("dependency", shell_complete=complete_target)
@click.option("--all", "all_paths", is_flag=True, help="Show every path to DEPENDENCY (as a tree), not only the shortest.")
@_outputs_option
@_query_options
@file_options
@common_options
@_without_cyclic_gc
def why_depends(target: str, dependency: str, all_paths: bool, outputs: bool, overrides: tuple, args: dict, ctx: Context) -> None:
    """Show why TARGET depends on DEPENDENCY: the chain of derivations from one to the other, and
    for each step the attribute or spec entry (layer and file) that creates the edge.

    DEPENDENCY is a TARGET, a source file or folder (by the store path it has), or the name of
    a derivation or source in the closure.  Exit status 1 when TARGET does not depend on it.

    \b
    Examples:
      skiffeval why-depends layers/boards/qemu-x86_64.sk#config layers/apps/docker/kernel.conf
      skiffeval why-depends ./result files-hostname --all
    """
    from skiffeval.session import queries
    from skiffeval.session.targets import resolve_target

    def resolve(text: str) -> list[Any]:
        with _collector(True):  # an evaluation makes cycles (``_without_cyclic_gc``)
            return resolve_target(ctx.session, text, args)

    graph = _graph(ctx, target, args, overrides, outputs)
    deps = queries.find_dependency(ctx.session, graph, dependency, resolve)
    if all_paths and not ctx.output.json:  # the whole tree: printed as it is walked
        found = queries.why_depends_all(graph, deps)
        if found is not None:
            ctx.output.result(tree_text(found[0], ctx.session, keep=found[1], sites=True))
            return
        lines = []
    else:
        lines = queries.why_depends(graph, deps, all_paths=all_paths)
    if not lines:
        raise SkiffError(queries.NOT_A_DEPENDENCY, f"'{target}' does not depend on '{dependency}'",
                         help=["'skiffeval query requisites TARGET' lists everything it depends on"])
    root = str(ctx.session.store.root)
    if ctx.output.json:
        _data(ctx, {"roots": [ln.node for ln in lines if ln.depth == 0],
                         "dependencies": sorted(deps & graph.nodes.keys()),
                         "nodes": {nid: graph.nodes[nid].to_json(root) for nid in dict.fromkeys(ln.node for ln in lines)},
                         "lines": _lines_json(lines)})
        return
    ctx.output.result(render_tree(graph, lines, ctx.session))


@click.command("path-info")
@click.argument("targets", nargs=-1, required=True, shell_complete=complete_target)
@click.option("-r", "--recursive", is_flag=True, help="Describe the whole closure, dependencies first.")
@click.option("-S", "--closure-size", "closure_size", is_flag=True, help="Also print each path's closure size.")
@click.option("--drv", "drv_files", is_flag=True, help="Describe the .drv files of the targets instead of their outputs.")
@_query_options
@file_options
@common_options
@_without_cyclic_gc
def path_info(targets: tuple[str, ...], recursive: bool, closure_size: bool, drv_files: bool, overrides: tuple,
              args: dict, ctx: Context) -> None:
    """Describe the store paths of TARGETS: kind, size, closure size (-S), SHA-256, deriver and
    references.  Closure sizes of a whole closure (-rS) are computed in linear time.

    \b
    Examples:
      skiffeval path-info ./result -S
      skiffeval path-info ./result -rS --json
      skiffeval path-info layers/boards/qemu-x86_64.sk#config --drv
    """
    from skiffeval.session import queries

    found = []
    for target in targets:
        found.extend(_targets(ctx, target, args, overrides))
    paths = queries.store_paths_of(found, drv_files=drv_files)
    records = queries.path_records(ctx.session, paths, recursive=recursive, closure_sizes=closure_size)
    root = str(ctx.session.store.root)
    if ctx.output.json:
        _data(ctx, [r.to_json(root) for r in records])
        return
    ctx.output.result("".join([_path_text(root, r) for r in records]))


def _path_text(root: str, r: Any) -> str:
    """One path's ``path-info`` paragraph, its last line ended."""
    closure = f"  closure     {_size(r.closure_size)}\n" if r.closure_size is not None else ""
    deriver = f"  deriver     {root}/{r.deriver}\n" if r.deriver else ""
    refs = "".join([f"    {root}/{x}\n" for x in r.references])
    return (f"{root}/{r.path}\n  kind        {r.kind}\n"
            f"  size        {_size(r.size)} in {count(r.files, 'file')}\n{closure}"
            f"  sha256      {r.sha256}\n{deriver}  references  {len(r.references)}\n{refs}")
