"""Bootstrap cost: native import vs ``python -c pass``; eventlet-mode
bootstrap vs bare ``eventlet.monkey_patch()``.

Run: ``python benchmarks/bench_bootstrap.py [rounds]``.
"""

from __future__ import annotations

import subprocess
import sys

from _timing import PY, env, interleave, table, time_command


def main() -> None:
    """Print the two comparison tables."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    native = env(PATCHGUARD_MODE="native")
    check = subprocess.run(
        [
            PY,
            "-c",
            "import patchguard.bootstrap, sys; "
            "print('eventlet' in sys.modules)",
        ],
        env=native,
        capture_output=True,
        text=True,
        check=True,
    )
    samples = interleave(
        {
            "python -c pass": lambda: time_command([PY, "-c", "pass"], native),
            "import patchguard.bootstrap (native)": lambda: time_command(
                [PY, "-c", "import patchguard.bootstrap"], native
            ),
        },
        rounds,
    )
    print(
        table(
            "Native-mode bootstrap",
            samples,
            "python -c pass",
            goal="<= 1.5x; eventlet in sys.modules after native bootstrap: "
            + check.stdout.strip(),
        )
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
