"""The rating processor: cotyledon workers, metrics fetched concurrently.

Run as ``python -m examples.processor.service PORT OUTDIR SCOPES METRICS
WORKERS``; ``PATCHGUARD_MODE`` (``eventlet`` or ``native``) picks the mode,
and that is the only switch: the code below is the same for both.

Each of the WORKERS cotyledon workers takes every WORKERS-th scope, fetches
its METRICS metrics from the collector through one
:func:`patchguard.executor.executor` (greenthreads in eventlet mode, OS
threads in native mode), rates them (quantity x unit price) and writes
``worker-<id>.json``.  The worker that finds every worker's file written
asks the master to stop (SIGTERM), as an operator would, and the
``ServiceManager`` terminates the workers and exits 0.  Workers are
started with multiprocessing's ``spawn`` method (see :func:`main`).
"""

import patchguard.bootstrap  # noqa: F401, I001 (first: decides the mode)

import http.client
import json
import multiprocessing
import os
import signal
import sys
import time
from decimal import Decimal
from pathlib import Path

import cotyledon

import patchguard
from patchguard.executor import executor


def metric_names(count: int) -> list[str]:
    """Return the names of the ``count`` metrics every scope has."""
    kinds = ["cpu", "ram", "disk", "net.in", "net.out", "image", "volume"]
    return [f"{kinds[i % len(kinds)]}.{i}" for i in range(count)]


def fetch(port: int, scope: str, metric: str) -> dict[str, object]:
    """GET one metric of one scope from the collector.

    :raises RuntimeError: when the collector does not answer 200.
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", f"/v1/metric/{scope}/{metric}")
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    if resp.status != 200:
        raise RuntimeError(f"collector: {scope}/{metric}: {resp.status}")
    answer: dict[str, object] = json.loads(body)
    return answer


def findings() -> list[object]:
    """The findings patchguard recorded in this process, as dicts."""
    return [f.to_dict() for f in patchguard.state().findings]


class RatingProcessor(cotyledon.Service):  # type: ignore[misc]
    """One worker: rate every WORKERS-th scope."""

    name = "rating-processor"

    def __init__(
        self,
        worker_id: int,
        port: int,
        outdir: str,
        scopes: int,
        metrics: int,
        workers: int,
    ) -> None:
        super().__init__(worker_id)
        self.worker_id = worker_id
        self.port = port
        self.outdir = Path(outdir)
        self.scopes = [f"scope-{i:03d}" for i in range(scopes)]
        self.metrics = metric_names(metrics)
        self.workers = workers

    def rate(self, pool: object, scope: str) -> dict[str, str]:
        """Fetch every metric of ``scope`` concurrently; rate each."""
        answers = pool.map(  # type: ignore[attr-defined]
            lambda m: fetch(self.port, scope, m), self.metrics, timeout=60
        )
        return {
            a["metric"]: str(Decimal(a["qty"]) * Decimal(a["price"]))
            for a in answers
        }

    def run(self) -> None:
        """Rate this worker's scopes, write them, stop when all are done."""
        mine = self.scopes[self.worker_id :: self.workers]
        # One pool for the worker's life, as a long-running processor
        # keeps it between collection cycles; terminate() shuts it down.
        self.pool = pool = executor(len(self.metrics), name="fetch")
        started = time.time()
        rated = {scope: self.rate(pool, scope) for scope in mine}
        finished = time.time()
        stats = pool.statistics
        report = {
            "worker": self.worker_id,
            "pid": os.getpid(),
            "mode": patchguard.state().mode,
            "executor": pool.kind,
            "started": started,
            "finished": finished,
            "fetches": stats.completed,
            "failed": stats.failed,
            "rated": rated,
            "findings": findings(),
        }
        tmp = self.outdir / f".worker-{self.worker_id}.json"
        tmp.write_text(json.dumps(report, sort_keys=True))
        tmp.rename(self.outdir / f"worker-{self.worker_id}.json")
        if len(list(self.outdir.glob("worker-*.json"))) == self.workers:
            os.kill(os.getppid(), signal.SIGTERM)

    def terminate(self) -> None:
        """Stop the fetch pool (cotyledon calls this on SIGTERM)."""
        pool = getattr(self, "pool", None)
        if pool is not None:
            pool.shutdown(wait=True)


def main(argv: list[str]) -> int:
    """Run the processor under a cotyledon ServiceManager.

    :param argv: ``PORT OUTDIR SCOPES METRICS WORKERS``.
    """
    port, outdir, scopes, metrics, workers = argv
    out = Path(outdir)

    def record_master() -> None:
        # At shutdown, so findings made while forking workers count too.
        (out / "master.json").write_text(
            json.dumps({"pid": os.getpid(), "findings": findings()})
        )

    # Workers are spawned, not forked: the master already runs cotyledon's
    # supervisor (a greenthread in eventlet mode, a thread in native
    # mode) and fork() would copy it into every worker, which is what
    # patchguard's ForkWarning reports.  A spawned worker imports this
    # module afresh, so `import patchguard.bootstrap` decides its mode
    # from the same PATCHGUARD_MODE.
    manager = cotyledon.ServiceManager(
        graceful_shutdown_timeout=30,
        mp_context=multiprocessing.get_context("spawn"),
    )
    manager.register_hooks(on_terminate=record_master)
    manager.add(
        RatingProcessor,
        workers=int(workers),
        args=(int(port), outdir, int(scopes), int(metrics), int(workers)),
    )
    manager.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
