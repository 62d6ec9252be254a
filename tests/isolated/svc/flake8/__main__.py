"""Print how patchguard decided for ``patchguard run -m flake8``."""

import patchguard

print("DECIDED", patchguard.state().decided_by)
