"""flake8 plugin: the scan patterns as ``PGE1xx`` codes.

Registered as entry point ``flake8.extension`` ``PGE`` (setup.cfg).  The
plugin is *off by default*, like hacking's H905: patchguard is a runtime
dependency of the services that would lint with it, and installing it
must not change their ``pep8`` job.  Turn it on with ``--select=PGE``
(all codes), ``--select=PGE103,PGE104`` (some), or
``enable-extensions = PGE`` in ``tox.ini``'s ``[flake8]`` section next to
hacking's own.  ``# noqa: PGE101`` works as for any flake8 code.

The checks are exactly ``patchguard scan``'s: the same walker over the
tree flake8 already parsed.
"""

from __future__ import annotations

import ast

from patchguard.scan import patterns as _patterns
from patchguard.scan import walker as _walker

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator


class Checker:
    """flake8 AST plugin reporting each eventlet use.

    :param tree: the module's AST (given by flake8).
    :param lines: the module's physical lines (given by flake8).
    :param filename: the file name (given by flake8).
    """

    name = "patchguard"
    # flake8 reads this to leave the codes out of its default selection.
    off_by_default = True

    def __init__(
        self, tree: ast.AST, lines: list[str], filename: str = ""
    ) -> None:
        self.tree = tree
        self.lines = lines
        self.filename = filename

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        """Yield ``(line, col, "PGExxx message", type)`` per use."""
        for use in _walker.scan_tree(self.tree, self.lines, self.filename):
            pattern = _patterns.PATTERNS[use.pattern]
            yield (
                use.line,
                use.col,
                f"{pattern.code} {pattern.title}: {use.name}; "
                f"fix: {pattern.recipe}",
                type(self),
            )
