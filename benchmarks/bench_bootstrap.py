"""Bootstrap cost: native import vs ``python -c pass``; eventlet-mode
bootstrap vs bare ``eventlet.monkey_patch()``.

Run: ``python benchmarks/bench_bootstrap.py [rounds]``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from _timing import (
    PY,
    env,
    interleave,
    load_average,
    pairs,
    ratio_row,
    table,
    time_command,
    verdict,
)

import patchguard


def main() -> None:
    """Print the two comparison tables."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    # An installed package has its bytecode (pip compiles it); a checkout
    # run with PYTHONDONTWRITEBYTECODE=1 (as this machine sets) would
    # compile every module on every start and measure the compiler.
    subprocess.run(
        [PY, "-m", "compileall", "-q", str(Path(patchguard.__file__).parent)],
        check=True,
    )
    native = env(PATCHGUARD_MODE="native")
    check = subprocess.run(
        [
            PY,
            "-c",
            "import patchguard.bootstrap, sys; print(sorted(m for m in "
            "sys.modules if m.split('.')[0] in "
            "('eventlet', 'oslo_utils', 'oslo_concurrency', 'wrapt')))",
        ],
        env=native,
        capture_output=True,
        text=True,
        check=True,
    )
    print(f"{load_average()} at start\n")
    ratios = pairs(
        lambda: time_command([PY, "-c", "pass"], native),
        lambda: time_command(
            [PY, "-c", "import patchguard.bootstrap"], native
        ),
        rounds,
    )
    print("### Native-mode bootstrap vs `python -c pass` (wall time)\n")
    print("| variant | median ratio | spread | pairs | verdict |")
    print("|---|---:|---:|---:|---|")
    print(
        ratio_row("import patchguard.bootstrap (native)", ratios)
        + f" {verdict(ratios, 1.25, False)} |"
    )
    print(
        "\ngoal: <= 1.25x; eventlet, oslo.* or wrapt in sys.modules after "
        "the native bootstrap: " + check.stdout.strip() + "\n"
    )
    green = env(PATCHGUARD_MODE="eventlet")
    bare = "import eventlet; eventlet.monkey_patch()"
    samples = interleave(
        {
            "bare eventlet.monkey_patch()": lambda: time_command(
                [PY, "-c", bare], green
            ),
            "import patchguard.bootstrap (eventlet)": lambda: time_command(
                [PY, "-c", "import patchguard.bootstrap"], green
            ),
        },
        max(10, rounds // 2),
    )
    print(f"{load_average()} at the end\n")
    print(
        table(
            "Eventlet-mode bootstrap",
            samples,
            "bare eventlet.monkey_patch()",
            goal="<= 1.05x",
        )
    )


if __name__ == "__main__":
    main()
