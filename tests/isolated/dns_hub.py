"""state() says which resolver and hub are in effect."""

import patchguard.bootstrap  # noqa: F401
import eventlet
from _emit import emit

before = __import__("patchguard").state().hub
eventlet.sleep(0)  # the hub starts
emit(hub_before_start=before)
