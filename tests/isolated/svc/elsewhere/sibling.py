"""Imported by entry.py from the script's own directory."""

import patchguard.bootstrap  # noqa: F401
