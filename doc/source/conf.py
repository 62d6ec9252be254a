"""Sphinx configuration (offline: no intersphinx)."""

import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(__file__, "..", "..", "..")))

project = "patchguard"
author = "patchguard developers"
extensions = ["sphinx.ext.autodoc"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
# The bootstrap patches on import: document it without importing it.
autodoc_mock_imports: list[str] = []
html_theme = "alabaster"
exclude_patterns: list[str] = []
nitpicky = False
