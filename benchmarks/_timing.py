"""Shared timing helpers: alternate the sides, report medians and ratios.

The machines are shared and noisy, so every comparison runs its sides
interleaved in one run (A, B, B, A, ...): each ratio is taken within one
pair, the median of the pairs is reported with their spread, and a goal
is judged on the spread (see ``benchmarks/README``).
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


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, and the CPU count."""
    one, five, fifteen = os.getloadavg()
    return (
        f"load average {one:.2f} {five:.2f} {fifteen:.2f} on "
        f"{os.cpu_count()} CPUs"
    )


def pairs(
    anchor: Callable[[], float], variant: Callable[[], float], rounds: int
) -> list[float]:
    """Measure ``rounds`` interleaved pairs; return ``variant / anchor``.

    Both sides return a rate (higher is better) or a time; the pair is
    measured back to back, its order swapped every round, so a burst of
    load from a neighbour moves both sides of one ratio.
    """
    ratios = []
    for i in range(rounds):
        if i % 2:
            b = variant()
            a = anchor()
        else:
            a = anchor()
            b = variant()
        ratios.append(b / a)
    return ratios


def verdict(ratios: Sequence[float], goal: float, higher: bool) -> str:
    """Judge a goal on the pair ratios' spread, not on the median alone.

    :param ratios: one ratio per interleaved pair.
    :param goal: e.g. 0.8 (``higher``: ratio >= goal) or 1.25 (ratio <=).
    :returns: ``met`` when every pair meets the goal, ``not met`` when
        none does, ``undecided`` when the spread straddles it (on a
        shared machine: measure again when it is quieter).
    """
    ok = [(r >= goal) if higher else (r <= goal) for r in ratios]
    if all(ok):
        return "met"
    if not any(ok):
        return "not met"
    return "undecided (spread straddles the goal)"


def ratio_row(name: str, ratios: Sequence[float], extra: str = "") -> str:
    """A markdown row: median ratio, spread (min-max), pairs."""
    return (
        f"| {name} | {statistics.median(ratios):.2f}x "
        f"| {min(ratios):.2f}-{max(ratios):.2f}x | {len(ratios)} |{extra}"
    )
