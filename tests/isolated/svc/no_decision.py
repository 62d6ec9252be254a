"""An entry point that never decides how it is patched (check target)."""

import json  # noqa: F401
