"""An RPC layer written the old way: it binds names and starts a
heartbeat thread the moment it is imported (planted hazards)."""

import threading
from time import sleep  # planted: bound before patching, stays native

_LOCK = threading.Lock()  # planted: a native lock made before patching


def _heartbeat() -> None:
    while True:
        with _LOCK:
            sleep(0.5)


threading.Thread(target=_heartbeat, name="amqp-heartbeat", daemon=True).start()
