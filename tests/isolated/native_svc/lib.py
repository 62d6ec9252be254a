"""A library that imports eventlet at module level (the culprit)."""

import eventlet  # noqa: F401 - the import being reported
