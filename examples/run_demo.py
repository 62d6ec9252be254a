"""The main job: check a sample service with planted hazards, then the
same service fixed, and print patchguard's reports.

``make demo`` runs this.  It exits non-zero only if patchguard's verdicts
are not what the planted hazards call for (the hazardous entry point must
be flagged with each planted hazard, the fixed one must be clean).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVICE = HERE / "sample_service"
PLANTED = {
    "EarlyThreadWarning": "'amqp-heartbeat'",
    "StaleReferenceWarning": "nimbus.rpc.sleep -> time.sleep",
    "LatePatchWarning": "legacy.py",
}


def check(module: str, as_json: bool) -> subprocess.CompletedProcess[str]:
    """Run ``python -m patchguard check [--json] -m MODULE``."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("PATCHGUARD_")
    }
    env["EVENTLET_TESTS"] = "1"  # eventlet's deprecation banner: noise here
    args = [sys.executable, "-m", "patchguard", "check"]
    if as_json:
        args.append("--json")
    return subprocess.run(
        [*args, "-m", module],
        cwd=SERVICE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def main() -> int:
    """Print both reports; verify the verdicts."""
    problems = []
    for module, expect_clean in (
        ("nimbus.cmd.scheduler", False),
        ("fixed.cmd.scheduler", True),
    ):
        print(f"$ python -m patchguard check -m {module}")
        shown = check(module, as_json=False)
        print(shown.stdout, end="")
        print(f"(exit status {shown.returncode})\n")
        report = json.loads(check(module, as_json=True).stdout)
        if expect_clean:
            if report["status"] != 0:
                problems.append(f"{module}: expected clean")
            continue
        if report["status"] != 1:
            problems.append(f"{module}: expected exit status 1")
        for category, culprit in PLANTED.items():
            if not any(
                f["category"] == category and culprit in f["message"]
                for f in report["findings"]
            ):
                problems.append(f"{module}: {category} naming {culprit}")
    if problems:
        print("demo: patchguard missed planted hazards:", *problems, sep="\n")
        return 1
    print("demo: every planted hazard was named; the fixed service is clean.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
