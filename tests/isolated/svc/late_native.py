"""A run target that patches by itself (refused in native mode)."""

import eventlet

eventlet.monkey_patch()
