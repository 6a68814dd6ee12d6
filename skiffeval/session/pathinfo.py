"""``path-info``: what the store knows of valid paths, their closures and closure sizes.

The model: the rows (``paths``) and references (``refs``) of a whole closure are read with one
recursive query inside SQLite (``_path_rows``) rather than a few queries per breadth-first wave;
closure sizes come from linear passes over the closure in post-order (``_closure_sizes``).  Why
not ``LocalStore.path_info``: it computes a closure per call, quadratic over a closure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from skiffeval.derivation import StorePath
from skiffeval.diagnostics import SkiffError
from skiffeval.session import querycache
from skiffeval.session.drvindex import _chunks
from skiffeval.session.querycodes import NOT_BUILT
from skiffeval.session.querytypes import PathRecord, _new

if TYPE_CHECKING:  # pragma: no cover
    from skiffeval.session.core import Session
    from skiffeval.session.targets import Target

__all__ = ["path_records", "store_paths_of"]


def path_records(session: Session, paths: Sequence[StorePath], *, recursive: bool = False,
                 closure_sizes: bool = False) -> list[PathRecord]:
    """What the store knows of ``paths`` (with ``recursive``, of their whole closure, dependencies
    first), with closure sizes when asked.

    The rows and references of the whole closure are read with one recursive query
    (``_path_rows``); closure sizes in linear passes (``_closure_sizes``).  An answer that
    walked a closure is kept in the query cache under the store's generation (``querycache``).
    """
    store = session.store
    starts = list(dict.fromkeys(p.basename for p in paths))
    if not (recursive or closure_sizes):
        return _records(store, starts, recursive, closure_sizes)
    gen = querycache.generation(store)
    if gen is None:
        return _records(store, starts, recursive, closure_sizes)
    key = f"{recursive:d}{closure_sizes:d}\n" + "\n".join(starts)
    kept = querycache.load(store, "path-records", key, gen)
    if kept is not None:
        return [_new(PathRecord, r) for r in kept]
    out = _records(store, starts, recursive, closure_sizes, _kept_closure(store, starts, gen))
    querycache.save(store, "path-records", key, [tuple(r) for r in out], gen)
    return out


def _kept_closure(store: Any, starts: list[str], gen: str) -> tuple[dict[str, list[str]], bool] | None:
    """The closure of ``starts`` with each path's references (sorted), from a walk the query
    cache keeps, and whether it came from a derivation graph; or None.

    * The output graph of ``starts`` (``queries.output_graph``, under the same generation) is
      the store's references walked from them: the same closure by construction.
    * The derivation graph of ``.drv`` files (``queries.derivation_graph``, kept only when
      every input ref met was a key) has an edge for each input derivation and source, which
      is what the store registers as a ``.drv``'s references (``LocalStore.write_derivations``),
      and sources are registered without references.  ``_records`` still checks that every
      node is a valid path and that no source has references in the store (``store
      rebuild-db`` scans sources' bytes for them) before it trusts this.
    """
    key = "\n".join(starts)
    kept = querycache.load(store, "out-graph", key, gen)
    from_drvs = False
    if kept is None and all(s.endswith(".drv") for s in starts):
        kept = querycache.load(store, "drv-graph", key)
        from_drvs = True
    if kept is None:
        return None
    node_rows, child_rows = kept[0], kept[1]
    refs = {parent: sorted({edge[1] for edge in edges}) for parent, edges in child_rows}
    for node in node_rows:
        refs.setdefault(node[0], [])
    return refs, from_drvs


def _records(store: Any, starts: list[str], recursive: bool, closure_sizes: bool,
             kept: tuple[dict[str, list[str]], bool] | None = None) -> list[PathRecord]:
    """``path_records`` of the basenames ``starts``, read from the store; the closure and its
    references taken from a ``kept`` walk when given (``_kept_closure``) and every path of it
    valid, so that only the rows are read (a third of the recursive read)."""
    c = store.db.conn()
    walk = recursive or closure_sizes
    columns = "kind, size, files, sha256, deriver"
    rows: dict[str, tuple] | None = None
    if walk and kept is not None:
        refs, from_drvs = kept
        rows = _rows(c, list(refs), columns)
        if len(rows) != len(refs) or (from_drvs and _any_referrer(c, [b for b in refs if not b.endswith(".drv")])):
            rows = None  # the store disagrees with the walk somewhere: read what it says
    if rows is None:
        rows, refs = _path_rows(c, starts, columns, closure=walk)
    missing = [b for b in starts if b not in rows] or [b for b in refs if b not in rows]
    if missing:
        raise SkiffError(NOT_BUILT, f"'{missing[0]}' is not a valid path in the store '{store.root}'")
    order = _post_order(starts, refs) if walk else starts  # references before referrers
    sizes: dict[str, int] = {}
    if closure_sizes and recursive:
        sizes = _closure_sizes(order, refs, [rows[b][1] for b in order])
    elif closure_sizes:  # the given paths' only: a sum over each one's closure
        sizes = {b: sum([rows[x][1] for x in _post_order([b], refs)]) for b in starts}
    wanted = order if recursive else starts
    derivers = list({rows[b][4] for b in wanted if rows[b][4]})
    names: dict[str, str] = {}
    for part in _chunks(derivers):
        marks = ",".join("?" * len(part))
        for key, name in c.execute(f"SELECT key, name FROM derivations WHERE key IN ({marks})", part):
            names[key] = f"{key}-{name}.drv"
    out = []
    for b in wanted:
        kind, size, files, sha, deriver = rows[b]
        out.append(_new(PathRecord, (b, kind, size, files, sha, names.get(deriver) if deriver else None,
                                     tuple(refs[b]), sizes.get(b) if closure_sizes else None)))
    return out


def _path_rows(c: Any, paths: list[str], columns: str, *, closure: bool) -> tuple[dict[str, tuple], dict[str, list[str]]]:
    """The ``paths`` row (``columns``) and the sorted references (not itself) of each of
    ``paths`` — or, with ``closure``, of every path in their closure, read with one recursive
    query inside SQLite rather than a few queries per breadth-first wave.  A path the store
    does not know has references (none) but no row."""
    cols = ", ".join(f"paths.{name.strip()}" for name in columns.split(","))
    select = (f"SELECT c.p, (SELECT group_concat(reference, ' ') FROM refs WHERE referrer = c.p), {cols} "
              "FROM c LEFT JOIN paths ON paths.path = c.p")
    if closure:
        queries = [(f"WITH RECURSIVE c(p) AS (VALUES {','.join(['(?)'] * len(paths))} "
                    f"UNION SELECT reference FROM refs JOIN c ON referrer = c.p) {select}", paths)]
    else:
        queries = [(f"WITH c(p) AS (VALUES {','.join(['(?)'] * len(part))}) {select}", part) for part in _chunks(paths)]
    rows: dict[str, tuple] = {}
    refs: dict[str, list[str]] = {}
    for q, args in queries:
        for base, mentions, *row in c.execute(q, args):
            if row[0] is not None:  # a valid path (the first column is NOT NULL)
                rows[base] = tuple(row)
            found = mentions.split(" ") if mentions else []  # store names have no spaces (NAME_RE)
            if base in found:
                found.remove(base)  # a self-reference
            found.sort()
            refs[base] = found
    return rows, refs


def _rows(c: Any, paths: list[str], columns: str) -> dict[str, tuple]:
    """The ``paths`` row (``columns``) of each of ``paths`` the store holds."""
    found: dict[str, tuple] = {}
    for part in _chunks(sorted(paths)):  # in key order: each B-tree page is visited once
        q = f"SELECT path, {columns} FROM paths WHERE path IN ({','.join('?' * len(part))})"
        for base, *row in c.execute(q, part):
            found[base] = tuple(row)
    return found


def _any_referrer(c: Any, paths: list[str]) -> bool:
    """Whether any of ``paths`` has references in the store."""
    for part in _chunks(paths):
        q = f"SELECT 1 FROM refs WHERE referrer IN ({','.join('?' * len(part))}) LIMIT 1"
        if c.execute(q, part).fetchone() is not None:
            return True
    return False


def _post_order(starts: list[str], refs: dict[str, list[str]]) -> list[str]:
    """The closure of ``starts`` depth-first, each path after everything it refers to."""
    order: list[str] = []
    done: set[str] = set()
    for start in starts:
        if start in done:
            continue
        done.add(start)
        # each frame resumes its path's iterator of references: no tuple made per step
        stack: list[tuple[str, Any]] = [(start, iter(refs[start]))]
        while stack:
            base, kids = stack[-1]
            for kid in kids:
                if kid not in done:
                    done.add(kid)
                    stack.append((kid, iter(refs[kid])))
                    break
            else:
                stack.pop()
                order.append(base)
    return order


def _closure_sizes(order: list[str], refs: dict[str, list[str]], sizes: list[int]) -> dict[str, int]:
    """Closure sizes of ``order`` (references first; ``sizes`` their own sizes), in linear passes.

    Each path gets a bit (its place in ``order``); a path's closure is the OR of its own bit
    and its references' closures (Python integers as bit sets: a 10,000-path closure costs
    10,000 ORs of 1.25 KB).  Its size is that of its largest reference's closure (known: a
    subset of its own) plus the sizes of the few paths that closure lacks, found bit by bit —
    on a layered graph, usually the path itself.  When many paths are lacking, the whole
    closure is summed one bit plane of the sizes at a time instead,
    ``popcount(closure & plane_k) << k``; the planes are the columns of the sizes written in
    binary, one row per path (``zip`` transposes them), made on first need."""
    closure: dict[str, int] = {}
    count: dict[str, int] = {}
    total: dict[str, int] = {}
    planes: list[tuple[int, int]] | None = None
    for i, b in enumerate(order):
        bits = 1 << i
        best, most = None, 0
        for r in refs[b]:
            bits |= closure[r]
            if count[r] > most:
                best, most = r, count[r]
        n = bits.bit_count()
        closure[b], count[b] = bits, n
        if n - most <= (8 if planes is None else len(planes)):  # a few lacking: bit by bit
            rest, size = (bits ^ closure[best], total[best]) if best is not None else (bits, 0)
            while rest:
                low = rest & -rest
                size += sizes[low.bit_length() - 1]
                rest ^= low
            total[b] = size
        else:
            if planes is None:
                planes = _bit_planes(sizes)
            total[b] = sum([(bits & plane).bit_count() << k for k, plane in planes])
    return total


def _bit_planes(sizes: list[int]) -> list[tuple[int, int]]:
    """(k, the set of paths whose size has bit k) for each bit k some size has."""
    width = max(sizes, default=0).bit_length()
    rows = [format(v, f"0{width}b")[::-1] for v in reversed(sizes)]  # row of path i: bit k at column k
    return [(k, int("".join(column), 2)) for k, column in enumerate(zip(*rows)) if "1" in column]


def store_paths_of(targets: Iterable[Target], *, drv_files: bool = False) -> list[StorePath]:
    """The store paths ``path-info`` describes for ``targets``: each realized output (or, with
    ``drv_files``, each derivation's .drv file); E401 for a derivation that is not built."""
    out: list[StorePath] = []
    for t in targets:
        if drv_files and t.drv is not None:
            out.append(t.drv.drv_path)
        elif t.path is not None:
            out.append(t.path)
        else:
            name = t.drv.name if t.drv is not None else t.label
            raise SkiffError(NOT_BUILT, f"'{name}' is not built, so it has no output path",
                             help=["build it first, or pass --drv to describe its .drv file"])
    return out
