"""A ceilometer-style read API: one WSGI app, served three ways.

``GET /v2/meters/<resource>`` returns the 20 latest samples of a resource
from the database named by ``BENCH_DB`` (``mysql://host:port/db`` through
PyMySQL, or ``sqlite:///path``); ``GET /state`` reports the mode.  The
same file is the app for all three servers:

* ``uwsgi --wsgi-file benchmarks/_api_app.py`` (native, processes x
  threads);
* ``python benchmarks/_api_app.py eventlet PORT`` (``eventlet.wsgi`` in
  eventlet mode);
* ``python benchmarks/_api_app.py threaded PORT`` (werkzeug's threaded
  server, native mode).

Connections come from a small pool (a ``queue.LifoQueue``: green in
eventlet mode, native otherwise) so no server pays a connect per request.
"""

import patchguard.bootstrap  # noqa: F401, I001 (first: decides the mode)

import json
import os
import queue
import sys
from collections.abc import Callable, Iterable
from typing import Any

from _api_db import QUERY, connect

import patchguard


class _Pool:
    """Reuse connections: take one, give it back after the request."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._idle: queue.LifoQueue[tuple[Any, str]] = queue.LifoQueue()

    def run(self, resource: str) -> list[Any]:
        try:
            conn, p = self._idle.get_nowait()
        except queue.Empty:
            conn, p = connect(self._url)
        try:
            cur = conn.cursor()
            cur.execute(QUERY.format(p=p), (resource,))
            rows = [list(row) for row in cur.fetchall()]
            cur.close()
        except BaseException:
            conn.close()
            raise
        self._idle.put((conn, p))
        return rows


_pool = _Pool(os.environ.get("BENCH_DB", "sqlite:///:memory:"))
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def application(
    environ: dict[str, Any], start_response: StartResponse
) -> Iterable[bytes]:
    """The WSGI app (what all three servers serve)."""
    path = environ.get("PATH_INFO", "")
    if path == "/state":
        data: Any = {"mode": patchguard.state().mode, "pid": os.getpid()}
    elif path.startswith("/v2/meters/"):
        data = _pool.run(path.rsplit("/", 1)[1])
    else:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    body = json.dumps(data).encode()
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


def serve(kind: str, port: int) -> None:
    """Serve on 127.0.0.1:port with ``kind`` (``eventlet``/``threaded``)."""
    if kind == "eventlet":
        import eventlet
        import eventlet.wsgi

        sock = eventlet.listen(("127.0.0.1", port), backlog=512)
        eventlet.wsgi.server(sock, application, log_output=False)
        return
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", port, application, threaded=True)
    server.socket.listen(512)
    server.serve_forever()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
