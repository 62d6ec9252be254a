"""Run the rating processor in each mode and compare.

``python -m examples.processor [--modes native,eventlet] [--scopes 24]
[--metrics 8] [--workers 2] [--json]`` starts the collector, runs
:mod:`examples.processor.service` once per mode (only ``PATCHGUARD_MODE``
differs), checks that every mode rated every scope identically and that
patchguard recorded no finding in the master or any worker, and prints a
throughput table (or, with ``--json``, one JSON line).  Exit status 0 when
all of that holds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
#: seconds one processor run may take before it is killed.
RUN_TIMEOUT = 120


@contextlib.contextmanager
def collector() -> Iterator[int]:
    """Start the collector on a free port; stop it by PID on exit."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "examples.processor.collector"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"collector did not start: {line!r}")
        yield int(line.split()[1])
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def run_mode(mode: str, port: int, args: argparse.Namespace) -> dict[str, Any]:
    """Run the processor once with ``PATCHGUARD_MODE=mode``.

    :returns: ``{"mode", "seconds", "fetches", "rated", "findings",
        "executors", "stderr", "status"}``.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PATCHGUARD_", "OS_"))
    }
    env["PATCHGUARD_MODE"] = mode  # the one variable flip
    env["EVENTLET_TESTS"] = "1"  # eventlet's import-time banner is noise
    env["PYTHONPATH"] = str(ROOT)
    with tempfile.TemporaryDirectory(prefix="processor-") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-W",
                "always",
                "-m",
                "examples.processor.service",
                str(port),
                out,
                str(args.scopes),
                str(args.metrics),
                str(args.workers),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _, stderr = proc.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            # The master leads its own session (cotyledon calls setsid):
            # stop it and its workers together.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            _, stderr = proc.communicate(timeout=30)
        reports = [
            json.loads(p.read_text())
            for p in sorted(Path(out).glob("worker-*.json"))
        ]
        master_file = Path(out) / "master.json"
        master = (
            json.loads(master_file.read_text())
            if master_file.exists()
            else {"findings": ["master.json missing"]}
        )
    rated: dict[str, dict[str, str]] = {}
    for report in reports:
        rated.update(report["rated"])
    seconds = (
        max(r["finished"] for r in reports)
        - min(r["started"] for r in reports)
        if reports
        else float("nan")
    )
    return {
        "mode": mode,
        "status": proc.returncode,
        "workers": len(reports),
        "seconds": seconds,
        "fetches": sum(r["fetches"] for r in reports),
        "failed": sum(r["failed"] for r in reports),
        "modes_seen": sorted({r["mode"] for r in reports}),
        "executors": sorted({r["executor"] for r in reports}),
        "rated": rated,
        "findings": master["findings"]
        + [f for r in reports for f in r["findings"]],
        "pids": [proc.pid] + [r["pid"] for r in reports],
        "stderr": stderr,
    }


def main(argv: list[str] | None = None) -> int:
    """Run every requested mode, compare, print; 0 when all agree."""
    parser = argparse.ArgumentParser(prog="python -m examples.processor")
    parser.add_argument("--modes", default="native,eventlet")
    parser.add_argument("--scopes", type=int, default=24)
    parser.add_argument("--metrics", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    with collector() as port:
        runs = [run_mode(mode, port, args) for mode in modes]
    ok = all(
        r["status"] == 0
        and r["workers"] == args.workers
        and r["failed"] == 0
        and not r["findings"]
        and r["modes_seen"] == [r["mode"]]
        and len(r["rated"]) == args.scopes
        for r in runs
    )
    identical = all(r["rated"] == runs[0]["rated"] for r in runs)
    if args.json:
        print(json.dumps({"ok": ok, "identical": identical, "runs": runs}))
        return 0 if ok and identical else 1
    print(
        f"{args.scopes} scopes x {args.metrics} metrics, "
        f"{args.workers} cotyledon workers, collector latency 20-59 ms\n"
    )
    print("| mode | executor | seconds | metrics/s | scopes/s | findings |")
    print("|---|---|---:|---:|---:|---:|")
    for r in runs:
        print(
            f"| {r['mode']} | {','.join(r['executors'])} "
            f"| {r['seconds']:.2f} | {r['fetches'] / r['seconds']:.0f} "
            f"| {len(r['rated']) / r['seconds']:.1f} "
            f"| {len(r['findings'])} |"
        )
    print(f"\nresults identical across modes: {identical}")
    for r in runs:
        if r["status"] != 0 or r["findings"]:
            print(
                f"\n{r['mode']}: exit {r['status']}, findings "
                f"{r['findings']}\n{r['stderr'][-2000:]}"
            )
    return 0 if ok and identical else 1


if __name__ == "__main__":
    sys.exit(main())
