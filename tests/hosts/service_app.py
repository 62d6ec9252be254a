"""The WSGI app every host test serves (Apache mod_wsgi and uWSGI).

Its first line is the bootstrap, as in a real service's WSGI script.
``/state`` returns ``patchguard.state().to_dict()`` plus the process and
thread; ``/`` is the small answer the load test hammers; ``/ticks``
reports two background tickers started at import when
``PATCHGUARD_TEST_TICKERS=1``: one from :func:`patchguard.threads.
native_thread`, one from ``threading.Thread`` (a greenthread in eventlet
mode), each stamping the time every 0.2 s.
"""

# isort: off
import patchguard.bootstrap  # noqa: F401  (first, as in a real service)
# isort: on

import json
import os
import sys
import threading
import time

import patchguard
from patchguard import threads

TICKS = {"native": [], "thread": []}


def _tick(kind):
    ticks = TICKS[kind]
    while True:
        ticks.append(time.time())
        del ticks[:-500]
        time.sleep(0.2)


if os.environ.get("PATCHGUARD_TEST_TICKERS") == "1":
    threads.native_thread(_tick, "native", name="native-ticker")
    threading.Thread(
        target=_tick, args=("thread",), name="thread-ticker", daemon=True
    ).start()


def _spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:  # SPIN-LOOP
        pass


def _json(start_response, data):
    body = json.dumps(data).encode()
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


def application(environ, start_response):
    """Answer ``/state``, ``/ticks``, ``/spin`` or ``/``."""
    path = environ.get("PATH_INFO", "/")
    current = patchguard.state()
    if path == "/state":
        data = current.to_dict()
        data["pid"] = os.getpid()
        data["python"] = sys.version.split()[0]
        data["server"] = environ.get("SERVER_SOFTWARE", "")
        # mod_wsgi: "" in embedded mode, the daemon group's name otherwise.
        data["process_group"] = environ.get("mod_wsgi.process_group")
        return _json(start_response, data)
    if path == "/spin":
        seconds = float(environ.get("QUERY_STRING") or "0.6")
        if current.mode == "eventlet":
            import eventlet

            eventlet.spawn(_spin, seconds).wait()
        else:
            _spin(seconds)
        return _json(
            start_response,
            {"pid": os.getpid(), "watchdog": patchguard.state().watchdog},
        )
    if path == "/ticks":
        return _json(
            start_response,
            {
                "now": time.time(),
                "pid": os.getpid(),
                "native": list(TICKS["native"]),
                "thread": list(TICKS["thread"]),
            },
        )
    return _json(start_response, {"mode": current.mode, "pid": os.getpid()})
