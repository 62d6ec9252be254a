"""Plain threads: nothing here needs eventlet."""

import threading


def start(work):
    """Run work in a daemon thread."""
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread
