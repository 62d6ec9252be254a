"""Shared by the watchdog scenarios: collect reports, print them as JSON."""

import json
import logging
import sys

import patchguard
from patchguard import watchdog

REPORTS = []


def collect():
    """Log to stderr and keep every report the watchdog passes on."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    watchdog.on_stall(REPORTS.append)


def emit(**extra):
    """Print the reports and the state's counts as one JSON line."""
    data = {
        "reports": [r.to_dict() for r in REPORTS],
        "counts": patchguard.state().watchdog,
        "mode": patchguard.state().mode,
    }
    data.update(extra)
    print(json.dumps(data), flush=True)
