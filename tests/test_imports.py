"""The package's import graph: the command line has no import cycle."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "patchguard"


def import_graph() -> dict[str, set[str]]:
    """Module -> patchguard modules it imports, at any level (top or in a
    function: a cycle through a lazy import is still a cycle)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = (
            name if path.name == "__init__.py" else name.rpartition(".")[0]
        )
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                graph[name] |= {a.name for a in node.names} & set(modules)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[
                        : len(package.split(".")) - node.level + 1
                    ]
                    base = ".".join([*up, base] if base else up)
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    graph[name].add(full if full in modules else base)
        graph[name] &= set(modules)
        # The package __init__ is imported by everything first; edges to it
        # are not cycles in the sense of the layout.
        graph[name].discard("patchguard")
    return graph


def cycles_through(prefixes: tuple[str, ...]) -> list[list[str]]:
    """Every import cycle that passes through a module named by prefixes."""
    graph = import_graph()
    found = []
    for start in graph:
        if not start.startswith(prefixes):
            continue
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph[node]):
                if nxt == start:
                    found.append(path)
                elif nxt not in path:
                    stack.append((nxt, [*path, nxt]))
    return found


def test_graph_sees_real_imports() -> None:
    """The graph is not empty: cli imports the _cli target module."""
    assert "patchguard._cli.target" in import_graph()["patchguard.cli"]


def test_cli_has_no_import_cycle() -> None:
    """cli, __main__ and the _cli modules import in one direction only
    (issue 10 §5: cli <-> _check was a cycle)."""
    assert (
        cycles_through(
            ("patchguard.cli", "patchguard._cli", "patchguard.__main__")
        )
        == []
    )
