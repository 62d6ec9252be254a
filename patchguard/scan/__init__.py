"""Static inventory of eventlet uses (``patchguard scan``).

``patterns`` holds the classified patterns (stable ids, flake8 codes,
replacement recipes), ``walker`` the AST pass over one file, ``report``
the tree walk, text/JSON output and baseline comparison, ``command`` the
``patchguard scan`` verb and ``lint`` the flake8 plugin.  Nothing here
imports eventlet: the scan reads source, it never imports it.
"""

from __future__ import annotations

from patchguard.scan.patterns import PATTERNS, Pattern, classify
from patchguard.scan.report import ScanReport, scan
from patchguard.scan.walker import Unparsable, Use, scan_files, scan_source

__all__ = [
    "PATTERNS",
    "Pattern",
    "ScanReport",
    "Unparsable",
    "Use",
    "classify",
    "scan",
    "scan_files",
    "scan_source",
]
