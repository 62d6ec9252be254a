"""The green helper: spawn and a GreenPool (eventlet semantics)."""

import eventlet

POOL = eventlet.GreenPool(10)


def later(func):
    """Run func in a green thread."""
    return eventlet.spawn(func)
