"""Print how the process was decided (for ``patchguard run``)."""

import patchguard

current = patchguard.state()
print("STATE", current.mode, current.decided_by, current.project)
