"""What importing and using patchguard.subproc loads in native mode.

Prints which heavy modules (eventlet, oslo.utils, oslo.concurrency) are
loaded after the import, and after a successful run.
"""

import json
import sys

import patchguard.bootstrap  # noqa: F401

HEAVY = ("eventlet", "oslo_utils", "oslo_concurrency")


def loaded() -> list[str]:
    """Return the heavy modules present in sys.modules."""
    return [name for name in HEAVY if name in sys.modules]


from patchguard import subproc  # noqa: E402

after_import = loaded()
subproc.run(["true"], capture_output=True, timeout=10)
print(
    json.dumps(
        {
            "backend": subproc.backend(),
            "after_import": after_import,
            "after_run": loaded(),
        }
    )
)
