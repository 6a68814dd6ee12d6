"""``path-info``'s walks over a closure, against their definitions on random graphs: the order
(depth-first post-order, references in their order, each path once) and the closure sizes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from skiffeval.session.pathinfo import _closure_sizes, _post_order


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[str], dict[str, list[str]], dict[str, int]]:
    """A random DAG: path i refers to some of the paths before it (sorted, as the store lists
    them), with random sizes; and the paths a query starts from."""
    n = draw(st.integers(1, 60))
    names = [f"p{i:02d}" for i in range(n)]
    refs = {names[i]: sorted(draw(st.sets(st.sampled_from(names[:i]), max_size=12)) if i else []) for i in range(n)}
    sizes = {p: draw(st.integers(0, 1 << 20)) for p in names}
    starts = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3))
    return starts, refs, sizes


def _recursive_post_order(starts: list[str], refs: dict[str, list[str]]) -> list[str]:
    order: list[str] = []
    done: set[str] = set()

    def visit(p: str) -> None:
        done.add(p)
        for r in refs[p]:
            if r not in done:
                visit(r)
        order.append(p)

    for s in starts:
        if s not in done:
            visit(s)
    return order


@given(dags())
def test_post_order_is_the_depth_first_post_order(dag) -> None:
    starts, refs, _sizes = dag
    assert _post_order(starts, refs) == _recursive_post_order(starts, refs)


@given(dags())
def test_closure_sizes_are_the_sums_over_each_closure(dag) -> None:
    starts, refs, sizes = dag
    order = _post_order(starts, refs)
    got = _closure_sizes(order, refs, [sizes[p] for p in order])
    assert set(got) == set(order)
    for p in order:
        closure, todo = set(), [p]
        while todo:
            q = todo.pop()
            if q not in closure:
                closure.add(q)
                todo.extend(refs[q])
        assert got[p] == sum(sizes[q] for q in closure)
