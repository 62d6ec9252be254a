"""A legacy entry point: a thread and a bare monkey_patch (check target).

The thread outlives any slow start-up (it is daemon: check does not wait).
"""

import threading
from time import sleep

threading.Thread(
    target=sleep, args=(30,), name="amqp-heartbeat", daemon=True
).start()
import eventlet  # noqa: E402

eventlet.monkey_patch()


def main():
    raise SystemExit("main() must not run under check")


if __name__ == "__main__":
    main()
