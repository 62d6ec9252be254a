"""Uses eventlet.green primitives; nothing patched (check target)."""

from eventlet.green import socket  # noqa: F401
from eventlet.green.time import sleep  # noqa: F401
