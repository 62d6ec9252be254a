"""Imports eventlet but never decides how it is patched (check target)."""

import eventlet  # noqa: F401
