"""A legacy entry point patching everything but thread (check target)."""

import eventlet

eventlet.monkey_patch(thread=False)
