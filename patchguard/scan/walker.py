"""Find the eventlet uses in Python source: one AST pass per file.

The walker resolves every name through the file's imports, so
``import eventlet as ev; ev.spawn(f)``, ``from eventlet import
greenthread as gt; gt.sleep(0)`` and ``from futurist import
GreenThreadPoolExecutor as Pool`` are all found under their real names.
The alias table is per file and filled in source order (an import inside
a function counts from that line on), which is how imports are written in
practice; rebinding an imported name to something else is not tracked.

Speed: most files of a large service never mention eventlet, so a file is
parsed only when its bytes contain one of :data:`NEEDLES` (names a use
cannot avoid spelling: an alias is still introduced by an import that
spells the real name).  That keeps a whole nova tree (1,500 files, 600k
lines) to a second or two instead of the ~10 s that parsing everything
costs on this machine.
"""

from __future__ import annotations

import ast
import dataclasses
import re

from patchguard.scan import patterns as _patterns

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

# The cheap text filter (see may_use).  A use needs its name brought in
# by an import that spells the real module (aliases are introduced
# there), or is a mock target string, or a ``sleep(0)`` call.  Library
# -> words the file must also contain for any of its patterns to apply.
_LIBRARIES = {
    b"eventlet": (b"eventlet",),
    b"futurist": (b"Green",),
    b"oslo_service": (
        b"wsgi",
        b"sslutils",
        b"fixtures",
        b"backdoor",
        b"EVENTLET",
    ),
    b"oslo_utils": (b"eventletutils",),
}
_MOCKED = re.compile(rb"""['"](?:eventlet|oslo_utils\.eventletutils)\b""")
# A literal prefix ("sleep") lets the regex engine skip ahead quickly.
_YIELD = re.compile(rb"sleep(?:\(\s*0(?:\.0*)?\s*\)|\s+as\s)")
#: Longest source excerpt kept per use.
MAX_TEXT = 160


@dataclasses.dataclass(frozen=True)
class Use:
    """One eventlet use found in a file.

    :ivar pattern: the pattern id (see :data:`patterns.PATTERNS`).
    :ivar path: the file, as it was given to the scanner.
    :ivar line: 1-based line number.
    :ivar col: 0-based column.
    :ivar name: the resolved dotted name (or mock target) that matched.
    :ivar text: the stripped source line.
    :ivar guarded: an import inside ``try: ... except ImportError``: a
        probe for eventlet that works without it, not a use of it.
    """

    pattern: str
    path: str
    line: int
    col: int
    name: str
    text: str
    guarded: bool = False


@dataclasses.dataclass(frozen=True)
class Unparsable:
    """A file the scanner could not read or parse (reported, skipped).

    :ivar path: the file.
    :ivar line: the line of the syntax error, 0 when not known.
    :ivar message: why.
    """

    path: str
    line: int
    message: str


class _Visitor:
    """One pass over a module, in source order.

    Not :class:`ast.NodeVisitor`: its per-node ``getattr`` dispatch and
    ``iter_fields`` generator double the time of a large module, so the
    walk below dispatches on the node type through a dict and reads the
    child fields directly (same order, same nodes).
    """

    def __init__(self, path: str, lines: list[str]) -> None:
        self.path = path
        self.lines = lines
        self.aliases: dict[str, str] = {}
        self.uses: list[Use] = []
        # name bound by an import -> the index of that import's own use:
        # ``from eventlet import spawn`` then ``spawn(f)`` is one use of
        # the pattern (the call), not two (private).
        self._bound: dict[str, int] = {}
        #: indices of import uses a later use of the same name replaced.
        self.replaced: set[int] = set()
        # > 0 inside the body of a try whose handlers catch ImportError.
        self._guard = 0
        self._handlers: dict[type, Callable[[Any], None]] = {
            ast.Try: self.visit_Try,
            ast.Import: self.visit_Import,
            ast.ImportFrom: self.visit_ImportFrom,
            ast.Attribute: self.visit_Attribute,
            ast.Name: self.visit_Name,
            ast.Call: self.visit_Call,
        }

    def visit(self, node: ast.AST) -> None:
        """Visit ``node``: its handler, or else each child in order."""
        handler = self._handlers.get(type(node))
        if handler is not None:
            handler(node)
        else:
            self.generic_visit(node)

    def generic_visit(self, node: ast.AST) -> None:
        """Visit every child node of ``node``, in field order."""
        visit = self.visit
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        visit(item)
            elif isinstance(value, ast.AST):
                visit(value)

    def visit_Try(self, node: ast.Try) -> None:
        """Visit a try; its body is a guarded probe if ImportError is
        caught."""
        guard = any(_catches_import_error(h.type) for h in node.handlers)
        self._guard += guard
        for item in node.body:
            self.visit(item)
        self._guard -= guard
        for handler in node.handlers:
            self.visit(handler)
        for item in [*node.orelse, *node.finalbody]:
            self.visit(item)

    def _add(self, pattern: str, node: ast.AST, name: str) -> None:
        line = getattr(node, "lineno", 0)
        text = (
            self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        )
        self.uses.append(
            Use(
                pattern,
                self.path,
                line,
                getattr(node, "col_offset", 0),
                name,
                text[:MAX_TEXT],
                # Only the import itself is a probe: a call through the
                # name inside the same try is still a use.
                guarded=self._guard > 0
                and isinstance(node, (ast.Import, ast.ImportFrom)),
            )
        )

    def _classify(
        self, node: ast.AST, name: str, imported: bool, via: str | None = None
    ) -> None:
        found = _patterns.classify(name, imported)
        if found is None:
            return
        if imported and via is not None and not self._guard:
            self._bound[via] = len(self.uses)
        elif via is not None:
            # A use through a name whose import counted as the same
            # pattern: the import was only the way in.
            index = self._bound.pop(via, None)
            if index is not None and self.uses[index].pattern == found.id:
                self.replaced.add(index)
        self._add(found.id, node, name)

    # --- imports: bind aliases, and each import of eventlet is a use.
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            root = alias.name.split(".", 1)[0]
            if root not in _patterns.ROOTS:
                continue
            bound = alias.asname or root
            self.aliases[bound] = alias.name if alias.asname else root
            self._classify(node, alias.name, imported=True, via=bound)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or module.split(".", 1)[0] not in _patterns.ROOTS:
            return
        for alias in node.names:
            if alias.name == "*":
                self._classify(node, module, imported=True)
                continue
            full = f"{module}.{alias.name}"
            bound = alias.asname or alias.name
            self.aliases[bound] = full
            self._classify(node, full, imported=True, via=bound)

    # --- names and attribute chains, resolved through the aliases.
    def _resolve(self, node: ast.expr) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        base = self.aliases.get(node.id)
        if base is None:
            return None
        parts.append(base)
        return ".".join(reversed(parts))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = self._resolve(node)
        if name is None:
            # ``self.pool.spawn``, ``f().x``: look inside for names.
            self.generic_visit(node)
            return
        base: ast.expr = node
        while isinstance(base, ast.Attribute):
            base = base.value
        via = base.id if isinstance(base, ast.Name) else None
        self._classify(node, name, imported=False, via=via)

    def visit_Name(self, node: ast.Name) -> None:
        name = self.aliases.get(node.id)
        # ``spawn = None`` (a probe's fallback) rebinds, it uses nothing.
        if name is not None and isinstance(node.ctx, ast.Load):
            self._classify(node, name, imported=False, via=node.id)

    def visit_Call(self, node: ast.Call) -> None:
        func = self._resolve(node.func)
        if func is not None:
            if func in _patterns.SLEEPS and _is_zero_yield(node):
                self._add("yield-sleep", node, func)
            elif func in _patterns.MOCKERS:
                target = self._mock_target(node, func)
                if target is not None:
                    self._add("mock-eventlet", node, target)
        self.generic_visit(node)

    def _mock_target(self, node: ast.Call, func: str) -> str | None:
        if not node.args:
            return None
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            if _patterns.is_mocked_target(first.value):
                return first.value
            return None
        if not func.endswith((".object", "MockPatchObject")):
            return None
        # mock.patch.object(eventlet.greenthread, "spawn")
        owner = self._resolve(first)
        if owner is None or not _patterns.is_mocked_target(owner):
            return None
        attr = node.args[1] if len(node.args) > 1 else None
        if isinstance(attr, ast.Constant) and isinstance(attr.value, str):
            return f"{owner}.{attr.value}"
        return owner


def _catches_import_error(kind: ast.expr | None) -> bool:
    # ``except ImportError``, ``except (ImportError, X)``, and the
    # subclass ``ModuleNotFoundError``; a bare ``except:`` catches
    # everything but says nothing about a probe, so it does not count.
    names = kind.elts if isinstance(kind, ast.Tuple) else [kind]
    return any(
        isinstance(n, ast.Name)
        and n.id in ("ImportError", "ModuleNotFoundError")
        for n in names
    )


def _is_zero_yield(node: ast.Call) -> bool:
    args = list(node.args) + [k.value for k in node.keywords]
    if len(args) != 1 or not isinstance(args[0], ast.Constant):
        return False
    value = args[0].value
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and value == 0
    )


def _imported(data: bytes, library: bytes) -> bool:
    # Is some occurrence of ``library`` on an import line?  Walking the
    # occurrences with bytes.find is several times faster than a
    # multi-line regex over every line of a large file.
    start = data.find(library)
    while start >= 0:
        line = data[data.rfind(b"\n", 0, start) + 1 : start].lstrip()
        if line.startswith((b"import ", b"from ", b"import\t", b"from\t")):
            return True
        start = data.find(library, start + len(library))
    return False


def may_use(data: bytes) -> bool:
    """Return whether a file's bytes could hold a use (a cheap filter).

    Parsing dominates a scan (``ast.parse`` of a 1.5 MB test module takes
    a second or more), and most files of a service never import eventlet;
    a file is parsed only when a line imports one of the libraries with a
    pattern and the file mentions a name that pattern needs, or it holds
    an eventlet mock target string, or calls ``sleep(0)``.

    :param data: the file's contents.
    """
    for library, words in _LIBRARIES.items():
        if (
            library in data
            and any(word in data for word in words)
            and _imported(data, library)
        ):
            return True
    if b"eventlet" in data and _MOCKED.search(data):
        return True
    return b"sleep" in data and _YIELD.search(data) is not None


def scan_source(
    source: bytes | str, path: str
) -> tuple[list[Use], Unparsable | None]:
    """Return the eventlet uses in one file's source.

    :param source: the file's contents.
    :param path: the name used in records and error messages.
    :returns: the uses in source order, and the parse failure (then no
        uses) or ``None``.
    """
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        return [], Unparsable(path, exc.lineno or 0, exc.msg)
    except (ValueError, UnicodeDecodeError) as exc:
        # null bytes, undecodable text
        return [], Unparsable(path, 0, str(exc))
    if isinstance(source, bytes):
        text = source.decode("utf-8", "replace")
    else:
        text = source
    return scan_tree(tree, text.splitlines(), path), None


def scan_tree(tree: ast.AST, lines: list[str], path: str) -> list[Use]:
    """Return the eventlet uses in an already parsed module.

    :param tree: the module's AST.
    :param lines: its source lines (for the ``text`` of each use).
    :param path: the name used in records.
    :returns: the uses, by line and column.
    """
    visitor = _Visitor(path, lines)
    visitor.visit(tree)
    uses = [
        use
        for index, use in enumerate(visitor.uses)
        if index not in visitor.replaced
    ]
    uses.sort(key=lambda u: (u.line, u.col))
    return uses


def scan_files(
    paths: Iterable[str],
) -> tuple[list[Use], list[Unparsable], int]:
    """Scan the given module files (no directory walk, no exclusion).

    This is the piece a runtime check joins with: give it the ``__file__``
    of every module a start-up imported.

    :param paths: Python source files.
    :returns: the uses, the files that could not be read or parsed, and
        how many files were parsed (after the cheap text filter).
    """
    uses: list[Use] = []
    errors: list[Unparsable] = []
    parsed = 0
    for path in paths:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            errors.append(Unparsable(path, 0, exc.strerror or str(exc)))
            continue
        if not may_use(data):
            continue
        parsed += 1
        found, error = scan_source(data, path)
        uses.extend(found)
        if error is not None:
            errors.append(error)
    return uses, errors, parsed
