"""A metric collector on 127.0.0.1 with realistic latency.

Stands in for gnocchi/prometheus behind cloudkitty: ``GET
/v1/metric/<scope>/<metric>`` answers after 20-59 ms (fixed per metric, so
both modes see the same latency) with the quantity used and its unit
price, both fixed by the scope and metric so every run rates the same.

``python -m examples.processor.collector`` listens on a free port, prints
``PORT <n>`` on its first line, and serves until SIGTERM/SIGINT.  It never
imports patchguard: it is the outside world.
"""

from __future__ import annotations

import hashlib
import json
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType


def sample(scope: str, metric: str) -> dict[str, object]:
    """Return the collector's answer for one metric of one scope.

    :param scope: the project/tenant id.
    :param metric: the metric name.
    :returns: ``{"scope", "metric", "qty", "price", "latency"}``;
        ``latency`` is the answer's delay in seconds.
    """
    digest = hashlib.sha256(f"{scope}/{metric}".encode()).digest()
    return {
        "scope": scope,
        "metric": metric,
        "qty": int.from_bytes(digest[:2], "big") % 1000,
        "price": f"0.{digest[2] % 100:02d}",
        "latency": 0.020 + (digest[3] % 40) / 1000,
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        parts = self.path.strip("/").split("/")
        if len(parts) != 4 or parts[:2] != ["v1", "metric"]:
            self.send_error(404)
            return
        answer = sample(parts[2], parts[3])
        time.sleep(float(answer["latency"]))  # type: ignore[arg-type]
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: one line per request would drown the example's output."""


class _Server(ThreadingHTTPServer):
    # listen()'s backlog is read in __init__: the default 5 drops SYNs
    # under a burst of concurrent fetches, and each drop costs the client
    # a 1 s retransmit.
    request_queue_size = 128
    daemon_threads = True


def main() -> int:
    """Serve on 127.0.0.1 (free port) until SIGTERM or SIGINT."""
    server = _Server(("127.0.0.1", 0), _Handler)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
