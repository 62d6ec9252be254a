"""flake8 plugin: the scan patterns as ``PGE1xx`` codes.

Registered as entry point ``flake8.extension`` ``PGE`` (setup.cfg).  The
codes are *opt-in*, like hacking's H905: patchguard is a runtime
dependency of the services that would lint with it, and installing it
must not change their ``pep8`` job.  The plugin reports nothing unless
flake8's ``select`` or ``extend-select`` (command line or the
``[flake8]`` section of ``tox.ini``/``setup.cfg``/``.flake8``) names a
PGE code or a prefix of one: ``--select=PGE104`` (that code only),
``extend-select = PGE103,PGE104`` (those, next to the usual codes),
``extend-select = PGE`` (all of them).  flake8's own ``off_by_default``
is not used: it makes ``select`` unable to turn a code on, and its
``enable-extensions`` switch is all-or-nothing for one entry point.
``# noqa: PGE101`` works as for any flake8 code.

The checks are exactly ``patchguard scan``'s: the same walker over the
tree flake8 already parsed.
"""

from __future__ import annotations

import argparse
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
    #: Set by :meth:`parse_options`: the selectors that name PGE codes
    #: (the plugin's codes are all selected by flake8 once it reports at
    #: all, so it keeps to the codes named itself).
    selectors: tuple[str, ...] = ()

    def __init__(
        self, tree: ast.AST, lines: list[str], filename: str = ""
    ) -> None:
        self.tree = tree
        self.lines = lines
        self.filename = filename

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        """Turn the checks on when a flake8 selector names a PGE code.

        :param options: flake8's parsed options (flake8 calls this in
            every process it checks files in).
        """
        named: list[str] = []
        for attr in ("select", "extend_select"):
            value = getattr(options, attr, None) or []
            if isinstance(value, str):
                value = value.split(",")
            named.extend(str(v).strip().upper() for v in value)
        codes = list(_patterns.BY_CODE)
        cls.selectors = tuple(
            sel
            for sel in named
            if sel and any(code.startswith(sel) for code in codes)
        )

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        """Yield ``(line, col, "PGExxx message", type)`` per use."""
        if not self.selectors:
            return
        for use in _walker.scan_tree(self.tree, self.lines, self.filename):
            pattern = _patterns.PATTERNS[use.pattern]
            if not pattern.code.startswith(self.selectors):
                continue
            yield (
                use.line,
                use.col,
                f"{pattern.code} {pattern.title}: {use.name}; "
                f"fix: {pattern.recipe}",
                type(self),
            )
