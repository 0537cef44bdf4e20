"""The package's shape: no import cycle between subpackages, and data flowing one way (docs/architecture.md).

Every import counts — top-level, deferred inside functions, and under TYPE_CHECKING — because a cycle
held together by a deferred import is still a cycle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import vertexmeter

PACKAGE = Path(vertexmeter.__file__).parent
TOP = "vertexmeter"  # the package's own __init__ (lazy names) counts as a node of its own
# The core, lowest first: a layer may import only layers listed before it (request -> parsed request ->
# counts -> usage -> cost). Subpackages outside this list (cli, server, batch, ledger, web, …) sit above it.
CORE_LAYERS = [
    "paths", "lazy", "errors", "vocabulary", "datafiles", "registry", "tokenizing", "requests", "media", "counting",
    "pricing",
]


def node_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else TOP


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts.pop()
        source = node_of(".".join(parts))
        graph[source]  # noqa: B018 - every module's node exists, imported or not
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            for target in targets:
                if target == TOP or target.startswith(TOP + "."):
                    dependency = node_of(target)
                    if dependency != source:
                        graph[source].add(dependency)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_graph_is_read() -> None:
    graph = import_graph()
    assert {"counting", "media", "requests", "registry", "cli", "server"} <= set(graph)
    assert "requests" in graph["counting"]


def test_no_import_cycle_between_subpackages() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_core_layers_import_only_downwards() -> None:
    graph = import_graph()
    upward = [
        f"{layer} -> {dependency}"
        for layer in CORE_LAYERS
        for dependency in sorted(graph.get(layer, ()))
        if dependency not in CORE_LAYERS or CORE_LAYERS.index(dependency) > CORE_LAYERS.index(layer)
    ]
    assert not upward, f"imports against the data flow: {upward}"


def test_a_cycle_would_be_found() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
