"""Trees as text: ``query tree`` and ``why-depends`` (the box-drawing guides of docs/cli.md).

A tree is printed in pre-order, each node expanded once (a node met again is marked ``[see
above]``), so the text is linear in the size of the graph; beyond ``MAX_GUIDES`` levels the
outer guides are shown as ``+N``, so each line's length is bounded too.  Two renderers share
that format: ``render_tree`` prints any list of ``TreeLine`` records (why-depends' chain), and
``tree_text`` walks a graph itself the way ``queries.tree_lines`` does and prints as it goes —
the whole-tree case, where making ~30,000 line records first would cost as much as printing
them.  A test holds the two to the same text.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MAX_GUIDES", "render_tree", "tree_text"]

MAX_GUIDES = 24  # deeper lines show "+N" instead of N more guides: a deep chain's text stays linear


class _Memo(dict):
    """Texts made once each, however many lines show them: ``memo[key]`` makes a missing one
    with ``make`` (a node's ``(kind, state)``, a site's text)."""

    __slots__ = ("make",)

    def __init__(self, make: Any) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: Any) -> str:
        text = self[key] = self.make(key)
        return text


def _texts(graph: Any, session: Any) -> tuple[_Memo, _Memo]:
    """The memos of a rendering: each node's `` (kind, state)`` tail and each site's text."""
    nodes = graph.nodes
    return _Memo(lambda nid: f" ({_describe(nodes[nid])})"), _Memo(lambda site: _site_text(session, site))


def _describe(node: Any) -> str:
    if node.type == "derivation":
        return f"{node.kind}, {'built' if node.built else 'not built'}"
    return f"{node.kind}, {node.type}" if node.kind != node.type else node.type


def _site_text(session: Any, site: Any) -> str:
    from skiffeval.session.queries import display_file

    where = f"{site.field} {site.path}" if site.path else site.field
    details = []
    if site.layer:
        details.append(f"layer '{site.layer}'")
    if site.file:
        details.append(f"file '{display_file(session, site.file) if session is not None else site.file}'")
    elif site.label:
        details.append(f"'{site.label}'")
    if site.symbol:
        details.append(f"symbol {site.symbol}")
    return where + (f" ({', '.join(details)})" if details else "")


def render_tree(graph: Any, lines: list[Any], session: Any = None) -> str:
    """Tree lines as text: ``slot: <id> (kind, state)`` under box-drawing guides; a node shown
    above is marked ``[see above]``; why-depends lines carry ``via <site>`` lines.  Beyond
    ``MAX_GUIDES`` levels the outer guides are shown as ``+N``, so each line's length is bounded
    and the text stays linear in the number of lines.

    How: a line's parent is the last line before it one level up (pre-order), so ``stems[d]``
    holds the guides below the last line at depth ``d`` (its last ``MAX_GUIDES - 1`` only) and a
    line's prefix is its parent's stem and a branch.  A stem is made when a first child needs it
    (most lines have none); each node's ``(kind, state)`` text, each edge label's parts and each
    site's text are made once, however many lines show them.  The text is one join of pieces:
    a 30,000-line tree's lines made one f-string each cost three times as much."""
    parts: list[str] = []
    add = parts.append
    tails, said = _texts(graph, session)
    heads: dict[tuple[str, tuple[str, ...]], tuple[str, str]] = {}  # (slot, outputs) -> ("slot: ", " [outputs]")
    stems: list[str | None] = [""]  # None: not made yet (from ``below``); the roots' children have no guides
    below: list[tuple[str, bool]] = [("", True)]  # depth -> (the last line's parent stem, whether it is last)
    pluses: dict[int, str] = {}
    keep = MAX_GUIDES - 1
    width = 4 * keep
    n = len(lines)
    for i, (d, nid, edge, shared, last, sites) in enumerate(lines):
        if i:
            add("\n")
        plus = above = ""
        if d:
            _p, _c, slot, outputs = edge
            label = heads.get((slot, outputs))
            if label is None:
                label = heads[(slot, outputs)] = (
                    f"{slot}: " if slot else "",
                    f" [{', '.join(outputs)}]" if outputs and outputs != ("out",) else "")
            above = stems[d - 1]
            if above is None:  # the parent's stem, made for its first child
                up, up_last = below[d - 1]
                above = up + ("    " if up_last else "│   ")
                if len(above) > width:
                    above = above[4:]
                stems[d - 1] = above
            if d - 1 > keep:
                plus = pluses.get(d) or pluses.setdefault(d, f"+{d - 1 - keep} ")
                add(plus)
            add(above)
            add("└── " if last else "├── ")
            if label[0]:
                add(label[0])
            add(nid)
            if label[1]:
                add(label[1])
            if d < len(stems):
                stems[d] = None
                below[d] = (above, last)
            else:
                stems.append(None)
                below.append((above, last))
        else:
            add(nid)
        add(tails[nid])
        if shared:
            add(" [see above]")
        if sites:
            more = i + 1 < n and lines[i + 1][0] > d
            lead = f"{plus}{above}{'    ' if last else '│   '}" if d else ""
            lead = f"\n{lead}{'│' if more else ' '}   via "
            for site in sites:
                add(lead)
                add(said[site])
    return "".join(parts)


def tree_text(graph: Any, session: Any = None, *, depth: int | None = None, keep: set[str] | None = None,
              sites: bool = False) -> str:
    """The text of ``render_tree(graph, tree_lines(graph, depth=depth, keep=keep, sites=sites))``,
    walking the graph here (the walk of ``queries.tree_lines``) without making line records.

    How: a stack of (node, edge, depth, last, sites, the parent's stem, the parent's guides
    as its children show them, the line's prefix); expanding a node makes its stem (guides below
    it) and its children's two prefixes (middle and last branch) once, so a line is a few
    appended pieces, joined at the end."""
    from skiffeval.session.queries import kept_children

    parts: list[str] = []
    add = parts.append
    tails, said = _texts(graph, session)
    heads: dict[str, str] = {}  # slot -> "slot: "
    children = kept_children(graph, keep)
    roots = [r for r in graph.roots if keep is None or r in keep]
    guides = MAX_GUIDES - 1
    width = 4 * guides
    expanded: set[str] = set()
    no_sites: dict[str, tuple] = {}
    stack: list[tuple] = [(r, None, 0, i == len(roots) - 1, (), "", "", "") for i, r in enumerate(roots)][::-1]
    push, pop = stack.append, stack.pop
    while stack:
        nid, edge, d, last, explained, above, base, prefix = pop()
        add("\n")  # the first one is dropped at the end
        kids = children.get(nid, ())
        seen = nid in expanded
        if d:
            add(prefix)
            slot, outputs = edge[2], edge[3]
            if slot:
                add(heads.get(slot) or heads.setdefault(slot, f"{slot}: "))
            add(nid)
            if outputs and outputs != ("out",):
                add(f" [{', '.join(outputs)}]")
        else:
            add(nid)
        add(tails[nid])
        grows = not seen and bool(kids) and (depth is None or d < depth)
        if seen and kids:
            add(" [see above]")
        if explained:  # "via" lines: under the line's guides, a stem when its children follow
            pad = ("    " if last else "│   ") if d else ""
            mark = "│   via " if grows else "    via "
            for site in explained:
                add("\n")
                add(base)
                add(pad)
                add(mark)
                add(said[site])
        if not grows:
            continue
        expanded.add(nid)
        if d:
            stem = above + ("    " if last else "│   ")
            if len(stem) > width:
                stem = stem[4:]
        else:
            stem = ""
        lead = f"+{d - guides} {stem}" if d > guides else stem  # the children's guides
        mid, end = lead + "├── ", lead + "└── "
        d += 1
        by_slot = graph.slot_sites(nid) if sites else no_sites
        e = kids[-1]
        push((e[1], e, d, True, by_slot.get(e[2], ()) if sites else (), stem, lead, end))
        for e in kids[-2::-1]:  # the others, last first: popped in order
            push((e[1], e, d, False, by_slot.get(e[2], ()) if sites else (), stem, lead, mid))
    if parts:
        parts[0] = ""
    return "".join(parts)
