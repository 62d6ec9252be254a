"""An eventlet-mode service whose main thread blocks in native code.

``amqp_heartbeat.py VARIANT PORT SECONDS``: connect to the broker on
127.0.0.1:PORT with a 2 s heartbeat, start a heartbeat sender (every
0.5 s) in a :func:`patchguard.threads.native_thread` (VARIANT
``native``) or in a ``threading.Thread`` -- a greenthread once patched
(VARIANT ``green``, oslo.messaging's ``heartbeat_in_pthread=False``) --
then block the main thread for SECONDS in a native sleep, as an idle
mod_wsgi worker sits in Apache's C code.  Afterwards it stops the sender
and tries a message round trip.  Prints one JSON line.
"""

# isort: off
import patchguard.bootstrap  # noqa: F401  (PATCHGUARD_MODE=eventlet)
# isort: on

import json
import sys
import threading
import time

import amqp
from eventlet import patcher

import patchguard
from patchguard import threads

variant, port, hold = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
conn = amqp.Connection(
    host=f"127.0.0.1:{port}", heartbeat=2, connect_timeout=10
)
conn.connect()
client_port = conn.sock.getsockname()[1]
channel = conn.channel()
queue_name, _, _ = channel.queue_declare(exclusive=True)
beats = []
errors = []
stopping = []


def heartbeat():
    while not stopping:
        try:
            conn.send_heartbeat()
        except Exception as exc:
            errors.append(repr(exc))
            return
        beats.append(time.monotonic())
        time.sleep(0.5)


if variant == "native":
    sender = threads.native_thread(heartbeat, name="amqp-heartbeat")
else:
    sender = threading.Thread(
        target=heartbeat, name="amqp-heartbeat", daemon=True
    )
    sender.start()
time.sleep(0.2)  # a green yield: the sender gets going either way
start = time.monotonic()
patcher.original("time").sleep(hold)  # the hub's thread is stuck here
end = time.monotonic()
stopping.append(True)
sender.join(5)

window = [start] + [b for b in beats if start <= b <= end] + [end]
gaps = [round(b - a, 3) for a, b in zip(window, window[1:], strict=False)]
result = {
    "mode": patchguard.state().mode,
    "variant": variant,
    "client_port": client_port,
    "negotiated_heartbeat": conn.heartbeat,
    "held_seconds": round(end - start, 3),
    "beats_while_blocked": len(window) - 2,
    "max_gap": max(gaps),
    "sender_errors": errors,
    "round_trip": None,
    "error": None,
}
try:
    body = f"round trip after {hold:.0f} s"
    channel.basic_publish(amqp.Message(body), routing_key=queue_name)
    deadline = time.monotonic() + 10
    message = None
    while message is None and time.monotonic() < deadline:
        message = channel.basic_get(queue_name, no_ack=True)
        if message is None:
            time.sleep(0.05)
    result["round_trip"] = None if message is None else message.body
    if result["round_trip"] != body:
        result["error"] = f"got {result['round_trip']!r}, sent {body!r}"
except Exception as exc:
    result["error"] = repr(exc)
finally:
    try:
        conn.close()
    except Exception:
        pass
print(json.dumps(result))
