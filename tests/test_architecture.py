"""The package's shape: no import cycle between subpackages, data flowing one way, and one door per wing
(docs/architecture.md): another wing is imported only as `from vertexmeter.X import name`, with `name` in X's
`__all__`.

Every import counts — top-level, deferred inside functions, and under TYPE_CHECKING — because a cycle
held together by a deferred import is still a cycle, and a deferred reach past a door is still one.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import vertexmeter

PACKAGE = Path(vertexmeter.__file__).parent
TOP = "vertexmeter"  # the package's own __init__ (lazy names) counts as a node of its own
# The core, lowest first: a layer may import only layers listed before it (request -> parsed request ->
# counts -> usage -> cost). Subpackages outside this list (cli, server, batch, ledger, web, …) sit above it.
CORE_LAYERS = [
    "paths",
    "lazy",
    "errors",
    "vocabulary",
    "dates",
    "datafiles",
    "registry",
    "tokenizing",
    "requests",
    "media",
    "counting",
    "pricing",
]


# Subpackages (wings with a door, their `__init__`), as against the single-module wings (paths, errors, …).
WINGS = sorted(path.parent.name for path in PACKAGE.glob("*/__init__.py"))


def node_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else TOP


@dataclass(frozen=True)
class Import:
    source: str  # the importing module's wing
    where: str  # file:line
    module: str  # the module named
    names: tuple[str, ...]  # what `from module import …` takes (empty for `import module`)


def package_imports(package: Path = PACKAGE) -> list[Import]:
    """Every import of the package by the package: top-level, deferred and type-only alike."""
    found: list[Import] = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package.parent).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts.pop()
        source = node_of(".".join(parts))
        found.append(Import(source, str(relative), TOP, ()))  # every module's node exists, imported or not
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            where = f"{relative}.py:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append(Import(source, where, node.module, tuple(alias.name for alias in node.names)))
            elif isinstance(node, ast.Import):
                found.extend(Import(source, where, alias.name, ()) for alias in node.names)
    return [i for i in found if i.module == TOP or i.module.startswith(TOP + ".")]


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for imported in package_imports():
        graph[imported.source]  # noqa: B018 - every module's node exists, imported or not
        dependency = node_of(imported.module)
        if imported.module != TOP and dependency != imported.source:
            graph[imported.source].add(dependency)
    return graph


def door_names(wing: str, package: Path = PACKAGE) -> set[str]:
    """The wing's `__all__`, read from its `__init__` without importing it (the server's needs its extra)."""
    tree = ast.parse((package / wing / "__init__.py").read_text("utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return {str(ast.literal_eval(element)) for element in node.value.elts}  # type: ignore[attr-defined]
    return set()


def past_doors(imports: list[Import], doors: dict[str, set[str]]) -> list[str]:
    """Imports of another wing (`doors`: wing -> its `__all__`) that do not go through its door, or take a name
    its `__all__` does not list."""
    wrong: list[str] = []
    for imported in imports:
        wing = node_of(imported.module)
        if wing not in doors or wing == imported.source:
            continue
        if imported.module != f"{TOP}.{wing}":
            wrong.append(f"{imported.where}: {imported.module} (past the door of {wing})")
        elif not imported.names:
            wrong.append(f"{imported.where}: import {imported.module} (take names from the door)")
        else:
            wrong.extend(
                f"{imported.where}: {wing}.{name} (not in {wing}.__all__)"
                for name in imported.names
                if name not in doors[wing]
            )
    return wrong


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
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


def test_other_wings_come_in_only_through_the_door() -> None:
    wrong = past_doors(package_imports(), {wing: door_names(wing) for wing in WINGS})
    assert not wrong, "imports past a door:\n" + "\n".join(wrong)


def test_a_door_lists_what_it_exports() -> None:
    """Every name in a door's `__all__` exists there (a lazy name loads), and the top package's lazy names
    point at doors."""
    import importlib

    for wing in WINGS:
        door = importlib.import_module(f"{TOP}.{wing}")
        missing = [name for name in door.__all__ if not hasattr(door, name)]
        assert not missing, f"{wing}.__all__ names what it does not have: {missing}"
    from vertexmeter import _HOMES

    assert {home.removeprefix(TOP + ".") for home in _HOMES.values()} <= {*WINGS, "errors"}


def test_a_reach_past_a_door_would_be_found(tmp_path: Path) -> None:
    package = tmp_path / TOP
    for wing, init in {
        "low": '__all__ = ["shown"]\nfrom vertexmeter.low.inner import shown, hidden\n',
        "high": "from vertexmeter.low.inner import hidden\nfrom vertexmeter.low import hidden\n"
        "from vertexmeter.low import shown\nimport vertexmeter.low\n",
    }.items():
        (package / wing).mkdir(parents=True)
        (package / wing / "__init__.py").write_text(init)
    (package / "low" / "inner.py").write_text("shown = hidden = 1\n")
    imports = package_imports(package)
    doors = {"low": door_names("low", package), "high": door_names("high", package)}
    assert doors == {"low": {"shown"}, "high": set()}
    assert past_doors(imports, doors) == [
        "vertexmeter/high/__init__.py:1: vertexmeter.low.inner (past the door of low)",
        "vertexmeter/high/__init__.py:2: low.hidden (not in low.__all__)",
        "vertexmeter/high/__init__.py:4: import vertexmeter.low (take names from the door)",
    ]
