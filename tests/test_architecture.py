"""The package's import graph: no module imports itself round a circle, and layers point one way.

Why: an import circle makes the import order matter (a module half-initialised
when its partner reads from it), hides which module owns a piece of logic, and
makes parts impossible to reuse or test alone.  grimp reads the source; imports
inside functions count like module-level ones (a lazy import is still a
dependency), imports under ``if TYPE_CHECKING:`` do not (they never run).
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

grimp = pytest.importorskip("grimp", reason="grimp is in the [test] extra")

PACKAGE = "csei_nlp"


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(PACKAGE, exclude_type_checking_imports=True)


def _cycles(graph) -> Iterator[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in edges:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        m = stack.pop()
                        on_stack.discard(m)
                        comp.append(m)
                        if m == node:
                            break
                    if len(comp) > 1:
                        yield sorted(comp)


def _describe(graph, comp: list[str]) -> str:
    members = set(comp)
    lines = []
    for a in comp:
        for b in sorted(set(graph.find_modules_directly_imported_by(a)) & members):
            where = [d["line_number"] for d in graph.get_import_details(importer=a, imported=b)]
            lines.append(f"  {a} -> {b} (line {', '.join(map(str, where))})")
    return "\n".join(lines)


def test_no_import_cycles(graph):
    assert f"{PACKAGE}.pipeline.process" in graph.modules  # the graph holds the package's modules
    cycles = list(_cycles(graph))
    assert not cycles, "import circles:\n" + "\n\n".join(_describe(graph, c) for c in cycles)


def test_cycle_finder_sees_a_circle():
    """The check above would notice a circle (guards against a vacuous pass)."""
    g = grimp.ImportGraph()
    for m in ("p", "p.a", "p.b", "p.c"):
        g.add_module(m)
    g.add_import(importer="p.a", imported="p.b")
    g.add_import(importer="p.b", imported="p.a")
    g.add_import(importer="p.c", imported="p.a")
    assert list(_cycles(g)) == [["p.a", "p.b"]]


def test_annotate_does_not_import_web(graph):
    chains = graph.find_shortest_chains(importer=f"{PACKAGE}.annotate", imported=f"{PACKAGE}.web")
    assert not chains, f"csei_nlp.annotate imports csei_nlp.web: {sorted(chains)}"
