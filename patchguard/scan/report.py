"""Walk trees, summarise uses, and compare with a baseline.

:func:`scan` is the whole-tree entry point (``patchguard scan``);
:func:`~patchguard.scan.walker.scan_files` is the one to call with an
explicit list of module files.  The JSON document (schema
``patchguard-scan/1``, documented in ``doc/source/migration.rst``) is what
``--baseline`` reads back: uses are compared by pattern, path and source
text, not line number, so code moving inside a file is neither an
addition nor a removal.
"""

from __future__ import annotations

import collections
import dataclasses
import fnmatch
import functools
import json
import os

from patchguard.scan import patterns as _patterns
from patchguard.scan import walker as _walker

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from typing import Any

SCHEMA = "patchguard-scan/1"
#: Directories never descended into.
SKIP_DIRS = frozenset(
    {".git", ".hg", ".tox", ".venv", "__pycache__", ".mypy_cache"}
)


@dataclasses.dataclass
class ScanReport:
    """What a scan found.

    :ivar roots: the paths given.
    :ivar files: Python files considered.
    :ivar parsed: files parsed (the rest never mention a pattern).
    :ivar uses: every use, by path then line.
    :ivar errors: files reported and skipped.
    """

    roots: list[str]
    files: int
    parsed: int
    uses: list[_walker.Use]
    errors: list[_walker.Unparsable]

    def counts(self) -> dict[str, int]:
        """Return uses per pattern id, in table order, zeros left out."""
        found = collections.Counter(u.pattern for u in self.uses)
        return {p: found[p] for p in _patterns.PATTERNS if found[p]}

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document (schema :data:`SCHEMA`)."""
        return {
            "schema": SCHEMA,
            "roots": self.roots,
            "files": self.files,
            "parsed": self.parsed,
            "total": len(self.uses),
            "counts": self.counts(),
            "patterns": {
                p.id: {"code": p.code, "title": p.title, "recipe": p.recipe}
                for p in _patterns.PATTERNS.values()
            },
            "uses": [
                {
                    "pattern": u.pattern,
                    "code": _patterns.PATTERNS[u.pattern].code,
                    "path": u.path,
                    "module": module_name(u.path),
                    "line": u.line,
                    "col": u.col,
                    "name": u.name,
                    "text": u.text,
                }
                for u in self.uses
            ],
            "unparsable": [dataclasses.asdict(e) for e in self.errors],
        }


@functools.lru_cache(maxsize=4096)
def module_name(path: str) -> str:
    """Return the dotted module name of a file, from its package dirs.

    :param path: a ``.py`` file.
    :returns: e.g. ``nova.utils`` for ``.../nova/utils.py`` (parents are
        climbed while they hold an ``__init__.py``); the file's stem for
        a file outside any package.
    """
    directory, base = os.path.split(os.path.abspath(path))
    parts = [] if base == "__init__.py" else [base.rsplit(".", 1)[0]]
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        directory, name = os.path.split(directory)
        parts.append(name)
    return ".".join(reversed(parts)) or base


def _excluded(path: str, name: str, excludes: Sequence[str]) -> bool:
    return any(
        fnmatch.fnmatch(path, g) or fnmatch.fnmatch(name, g) for g in excludes
    )


def iter_files(roots: Iterable[str], excludes: Sequence[str]) -> Iterator[str]:
    """Yield the ``.py`` files under ``roots``, sorted, minus exclusions.

    :param roots: files or directories.
    :param excludes: shell globs matched against each file's and
        directory's path (as walked) and its base name; a matching
        directory is not descended into.
    :raises FileNotFoundError: when a root does not exist.
    """
    for root in roots:
        if os.path.isfile(root):
            if not _excluded(root, os.path.basename(root), excludes):
                yield root
            continue
        if not os.path.isdir(root):
            raise FileNotFoundError(root)
        for here, dirs, files in os.walk(root):
            dirs[:] = sorted(
                d
                for d in dirs
                if d not in SKIP_DIRS
                and not _excluded(os.path.join(here, d), d, excludes)
            )
            for name in sorted(files):
                path = os.path.join(here, name)
                if name.endswith(".py") and not _excluded(
                    path, name, excludes
                ):
                    yield path


def scan(roots: Sequence[str], excludes: Sequence[str] = ()) -> ScanReport:
    """Scan files and directory trees.

    :param roots: files or directories.
    :param excludes: globs, see :func:`iter_files`.
    :returns: the report.
    :raises FileNotFoundError: when a root does not exist.
    """
    files = list(iter_files(roots, excludes))
    uses, errors, parsed = _walker.scan_files(files)
    return ScanReport(list(roots), len(files), parsed, uses, errors)


def render(report: ScanReport) -> str:
    """Return the text report: per pattern, per module, with counts.

    :param report: what :func:`scan` returned.
    """
    out = [
        f"patchguard scan: {len(report.uses)} eventlet use(s) in "
        f"{len({u.path for u in report.uses})} of {report.files} file(s)"
    ]
    by_pattern: dict[str, list[_walker.Use]] = collections.defaultdict(list)
    for use in report.uses:
        by_pattern[use.pattern].append(use)
    for pid, count in report.counts().items():
        pattern = _patterns.PATTERNS[pid]
        out.append("")
        out.append(f"{pattern.code} {pid}: {pattern.title} ({count})")
        out.append(f"  fix: {pattern.recipe}")
        modules = collections.Counter(
            module_name(u.path) for u in by_pattern[pid]
        )
        for module, n in sorted(modules.items(), key=lambda m: (-m[1], m[0])):
            out.append(f"  {n:5d}  {module}")
    if report.errors:
        out.append("")
        out.append(f"unparsable, skipped ({len(report.errors)}):")
        for err in report.errors:
            out.append(f"  {err.path}:{err.line}: {err.message}")
    return "\n".join(out) + "\n"


def render_uses(uses: Iterable[dict[str, Any]]) -> list[str]:
    """Return one ``path:line: CODE id: text`` line per use record."""
    return [
        f"  {u['path']}:{u['line']}: {u['code']} {u['pattern']}: {u['text']}"
        for u in uses
    ]


def _key(use: dict[str, Any]) -> tuple[str, str, str]:
    # The dotted module, not the path as typed: ``scan svc``, ``scan ./svc``
    # and ``cd svc; scan .`` name the same file three ways, and a CI
    # ratchet must not see "added" uses because a directory was spelled
    # differently.  (A baseline without modules falls back to the path.)
    where = use.get("module") or use["path"]
    return (str(use["pattern"]), str(where), str(use["text"]))


def compare(
    old: dict[str, Any], new: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return the uses added and removed since a baseline.

    Uses are matched by (pattern, module, text) as multisets, so moving a
    line is neither, a second identical line is one addition, and the
    same tree scanned under another spelling of its path is unchanged.

    :param old: a baseline document (``scan --json``).
    :param new: the current document.
    :returns: ``(added, removed)`` use records.
    """
    before = collections.Counter(_key(u) for u in old.get("uses", []))
    after = collections.Counter(_key(u) for u in new["uses"])
    added: list[dict[str, Any]] = []
    extra = after - before
    for use in new["uses"]:
        if extra[_key(use)] > 0:
            extra[_key(use)] -= 1
            added.append(use)
    removed: list[dict[str, Any]] = []
    gone = before - after
    for use in old.get("uses", []):
        if gone[_key(use)] > 0:
            gone[_key(use)] -= 1
            removed.append(use)
    return added, removed


def load_baseline(path: str) -> dict[str, Any]:
    """Read a baseline written by ``scan --json``.

    :raises ValueError: when the file is not a scan document, naming the
        file and the schema expected.
    :raises OSError: when it cannot be read.
    """
    with open(path, encoding="utf-8") as handle:
        try:
            doc = json.load(handle)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"--baseline {path!r} is not JSON ({exc}); expected the "
                f"output of 'patchguard scan --json'"
            ) from exc
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ValueError(
            f"--baseline {path!r} is not a {SCHEMA} document; expected the "
            f"output of 'patchguard scan --json'"
        )
    return doc
