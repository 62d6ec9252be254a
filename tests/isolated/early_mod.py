"""A module that starts a thread when imported (the classic hazard)."""

import threading
import time


def heartbeat():
    time.sleep(30)


threading.Thread(target=heartbeat, name="early-bird", daemon=True).start()
