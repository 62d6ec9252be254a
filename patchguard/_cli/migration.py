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

Only the service's own code blocks: its package (the target's top-level
package) and modules outside site-packages and the standard library.
Installed libraries (oslo.log, futurist, oslo.messaging...) that serve
both modes choose their eventlet branch at run time, which a static scan
cannot see: their uses are listed under ``libraries``, not blocking.
"""

from __future__ import annotations

import ast
import os
import sys
import sysconfig

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


def _installed_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    keys = ("stdlib", "platstdlib", "purelib", "platlib")
    return tuple(
        os.path.join(os.path.realpath(paths[k]), "")
        for k in keys
        if k in paths
    )


def _is_own(module: str, path: str, root: str | None) -> bool:
    """Is ``module`` the service's own code (not an installed library)?"""
    if root is not None and module.split(".", 1)[0] == root.split(".")[0]:
        return True
    real = os.path.realpath(path)
    parts = real.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return False
    return not real.startswith(_installed_dirs())


def verdict(result: dict[str, Any], root: str | None) -> dict[str, Any]:
    """Judge the start-up reported by check's child.

    :param result: the child's result, with ``modules``.
    :param root: the target's module (``nova.cmd.compute``), whose
        top-level package is the service's own code; ``None`` for a
        script (then its own code is what lies outside installed
        packages).
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
    real = [u for u in uses if not u.guarded]
    blocking = [u for u in real if _is_own(by_file[u.path], u.path, root)]
    libraries: dict[str, int] = {}
    for use in real:
        module = by_file[use.path]
        if not _is_own(module, use.path, root):
            top = module.split(".", 1)[0]
            libraries[top] = libraries.get(top, 0) + 1
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
        "target_package": root.split(".")[0] if root else None,
        "blocked_by": blocked,
        "probes": [record(u) for u in uses if u.guarded],
        "libraries": dict(sorted(libraries.items())),
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
    if doc["libraries"]:
        listed = ", ".join(f"{k} ({v})" for k, v in doc["libraries"].items())
        lines.append(
            f"libraries   eventlet uses in installed libraries, chosen at "
            f"run time, not blocking: {listed}"
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
