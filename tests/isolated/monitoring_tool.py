"""Python 3.12+: a debugger registered only through sys.monitoring."""

import sys

sys.monitoring.use_tool_id(sys.monitoring.DEBUGGER_ID, "acme-debugger")
from _emit import emit  # noqa: E402

import patchguard.bootstrap  # noqa: E402,F401

emit()
