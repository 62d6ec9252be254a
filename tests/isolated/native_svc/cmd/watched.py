"""A service that decides nothing through patchguard: run --watch."""

import os
import sys

import patchguard

if __name__ == "__main__":
    print(
        "WATCHED",
        patchguard.state().mode,
        "eventlet" in sys.modules,
        os.environ.get("PATCHGUARD_MODE"),
        sys.argv[1:],
    )
