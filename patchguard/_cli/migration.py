"""``patchguard check --migration``: can this entry point run native?

One verdict per entry point, joining what its start-up did (who imported
eventlet, what was patched, which threads started: check's runtime
findings) with a static scan (:func:`patchguard.scan.scan_files`) of the
module files that start-up really imported -- not the whole tree, so a
use in a module the service never loads does not block it.

The verdict is "can run native" when no imported module uses eventlet
semantics; otherwise "blocked by" those uses, ordered by how many of the
imported modules import the module that holds each one (a helper that
half the service imports is the first thing to port).  A guarded probe
(``try: import eventlet`` / ``except ImportError``) is listed but does not
block: the module works without eventlet.
"""

from __future__ import annotations

import ast
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Modules whose own source spells eventlet without the service using it.
_SKIP_ROOTS = frozenset({"patchguard", "eventlet", "greenlet"})


def module_files() -> dict[str, str]:
    """Map each imported module to its ``.py`` file (runs in the child).

    :returns: ``{module name: absolute file}``, patchguard, eventlet and
        greenlet themselves and modules without a source file left out.
    """
    found: dict[str, str] = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            continue
        if name.split(".", 1)[0] in _SKIP_ROOTS or name == "__main__":
            continue
        found[name] = os.path.abspath(path)
    return found


def _imports(path: str, name: str, is_package: bool) -> set[str]:
    """Absolute names of the modules ``path`` imports (any depth)."""
    try:
        with open(path, "rb") as handle:
            tree = ast.parse(handle.read(), path)
    except (OSError, SyntaxError, ValueError):
        return set()
    package = name if is_package else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            out.add(base)
            # ``from pkg import helper`` may import the module pkg.helper.
            out.update(f"{base}.{a.name}" for a in node.names)
    return out


def _importers(modules: dict[str, str], targets: set[str]) -> dict[str, int]:
    """Count, per module in ``targets``, the imported modules importing
    it."""
    counts = dict.fromkeys(targets, 0)
    # Only files that spell a target's last name can import it: skip the
    # parse of the rest (most of a large service).
    needles = {t: t.rpartition(".")[2].encode() for t in targets}
    for name, path in modules.items():
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        wanted = {t for t, n in needles.items() if n in data and t != name}
        if not wanted:
            continue
        is_package = os.path.basename(path) == "__init__.py"
        imported = _imports(path, name, is_package)
        for target in wanted & imported:
            counts[target] += 1
    return counts


def verdict(result: dict[str, Any]) -> dict[str, Any]:
    """Judge the start-up reported by check's child.

    :param result: the child's result, with ``modules``.
    :returns: the ``migration`` document: ``verdict`` ("can run native"
        or "blocked"), ``blocked_by`` (uses with ``importers``, most
        depended on first), ``probes`` (guarded imports), ``runtime``
        (eventlet importer, patched modules, threads) and the counts.
    """
    from patchguard.scan import patterns as _patterns
    from patchguard.scan import walker as _walker

    modules: dict[str, str] = result.get("modules") or {}
    by_file = {path: name for name, path in modules.items()}
    uses, errors, parsed = _walker.scan_files(sorted(by_file))
    blocking = [u for u in uses if not u.guarded]
    counts = _importers(modules, {by_file[u.path] for u in blocking})

    def record(use: _walker.Use) -> dict[str, Any]:
        module = by_file[use.path]
        return {
            "pattern": use.pattern,
            "code": _patterns.PATTERNS[use.pattern].code,
            "module": module,
            "location": f"{use.path}:{use.line}",
            "name": use.name,
            "text": use.text,
            "importers": counts.get(module, 0),
        }

    blocked = sorted(
        (record(u) for u in blocking),
        key=lambda r: (-r["importers"], r["module"], r["location"]),
    )
    state = result.get("state") or {}
    return {
        "verdict": "blocked" if blocked else "can run native",
        "blocked_by": blocked,
        "probes": [record(u) for u in uses if u.guarded],
        "runtime": {
            "decision": result["decision"]["text"],
            "eventlet_imported_by": state.get("eventlet_imported_by"),
            "patched": state.get("patched", []),
            "findings": len(result["findings"]),
        },
        "modules_imported": len(modules),
        "files_parsed": parsed,
        "unparsable": [f"{e.path}:{e.line}: {e.message}" for e in errors],
    }


def render(doc: dict[str, Any]) -> str:
    """The human form of :func:`verdict`'s document."""
    runtime = doc["runtime"]
    lines = [
        f"migration   {doc['modules_imported']} module(s) imported, "
        f"{doc['files_parsed']} mention eventlet",
        f"eventlet    imported by "
        f"{runtime['eventlet_imported_by'] or 'nobody'}",
    ]
    for probe in doc["probes"]:
        lines.append(
            f"probe       {probe['location']}: {probe['text']} "
            f"(guarded: works without eventlet)"
        )
    if not doc["blocked_by"]:
        lines.append("verdict     can run native")
        return "\n".join(lines) + "\n"
    lines.append(f"verdict     blocked by {len(doc['blocked_by'])} use(s):")
    for use in doc["blocked_by"]:
        lines.append(
            f"  {use['location']}: {use['code']} {use['name']} "
            f"[{use['module']}, imported by {use['importers']} "
            f"module(s)] {use['text']}"
        )
    return "\n".join(lines) + "\n"
