"""Print how patchguard decided for `run oslopolicy-checker.py`."""

import patchguard

print("DECIDED", patchguard.state().decided_by)
