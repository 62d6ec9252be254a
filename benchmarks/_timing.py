"""Shared timing helpers: alternate the sides, report medians and ratios.

The machines are shared and noisy, so every comparison runs its sides
interleaved in one run (A, B, A, B, ...) and compares medians.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def env(**extra: str) -> dict[str, str]:
    """Return a clean environment for a benchmark child process."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PATCHGUARD_", "DISABLE_EVENTLET", "OS_"))
    }
    base["EVENTLET_TESTS"] = "1"
    base["PYTHONPATH"] = str(ROOT)
    base.update(extra)
    return base


def time_command(cmd: Sequence[str], environ: dict[str, str]) -> float:
    """Run ``cmd`` once and return its wall time in seconds."""
    start = time.perf_counter()
    subprocess.run(cmd, env=environ, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def interleave(
    sides: dict[str, Callable[[], float]], rounds: int
) -> dict[str, list[float]]:
    """Call each side once per round, in rotating order.

    :returns: side name → list of measurements.
    """
    names = list(sides)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for i in range(rounds):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(sides[name]())
    return samples


def table(
    title: str,
    samples: dict[str, list[float]],
    anchor: str,
    unit: str = "ms",
    scale: float = 1000.0,
    goal: str = "",
) -> str:
    """Render a markdown table of medians and ratios against ``anchor``."""
    base = statistics.median(samples[anchor])
    lines = [
        f"### {title}",
        "",
        f"| variant | median ({unit}) | min ({unit}) | ratio vs {anchor} |",
        "|---|---:|---:|---:|",
    ]
    for name, values in samples.items():
        med = statistics.median(values)
        lines.append(
            f"| {name} | {med * scale:.2f} | {min(values) * scale:.2f} "
            f"| {med / base:.3f}x |"
        )
    if goal:
        lines += ["", f"goal: {goal}"]
    return "\n".join(lines) + "\n"


PY = sys.executable
