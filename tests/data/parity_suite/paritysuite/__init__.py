"""A tiny stestr suite for ``patchguard parity`` (tests/test_parity.py).

Like an OpenStack service's ``tests/__init__.py``, it decides the mode
before anything else is imported.
"""

import patchguard.bootstrap  # noqa: F401
