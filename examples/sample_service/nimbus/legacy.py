"""A helper copied from an older service: it patches on its own."""

import eventlet

eventlet.monkey_patch(thread=False)  # planted: the old debugger workaround
