"""Which installed oslo.* (and friends) still import eventlet in native mode.

Run: ``python benchmarks/eventlet_importers.py`` with the interpreter of a
venv holding the libraries (e.g. ``.cache/native-services/venv/bin/python``
after ``bash .ci/native-services.sh``).

Each module is imported in its own fresh interpreter after
``patchguard.apply(mode="native")``; the row shows the library's version
and the import chain patchguard's :class:`~patchguard.EventletImportWarning`
recorded, or ``-`` when eventlet stayed out.  A second column repeats the
import with oslo.service's backend selected first (what patchguard does
when oslo.service is imported in native mode), where probing imports are
refused and fall back.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

#: module → distribution it ships in.
MODULES = {
    "oslo_config.cfg": "oslo.config",
    "oslo_context.context": "oslo.context",
    "oslo_utils.timeutils": "oslo.utils",
    "oslo_utils.eventletutils": "oslo.utils",
    "oslo_concurrency.lockutils": "oslo.concurrency",
    "oslo_concurrency.processutils": "oslo.concurrency",
    "oslo_log.log": "oslo.log",
    "oslo_serialization.jsonutils": "oslo.serialization",
    "oslo_middleware": "oslo.middleware",
    "oslo_db.api": "oslo.db",
    "oslo_privsep.priv_context": "oslo.privsep",
    "oslo_rootwrap.client": "oslo.rootwrap",
    "oslo_reports.guru_meditation_report": "oslo.reports",
    "oslo_versionedobjects.base": "oslo.versionedobjects",
    "oslo_policy.policy": "oslo.policy",
    "oslo_cache.core": "oslo.cache",
    "oslo_messaging": "oslo.messaging",
    "oslo_service.service": "oslo.service",
    "oslo_service.loopingcall": "oslo.service",
    "futurist": "futurist",
    "cotyledon": "cotyledon",
    "tooz.coordination": "tooz",
    "keystonemiddleware.auth_token": "keystonemiddleware",
}

PROBE = """\
import json, sys
import patchguard
patchguard.apply(mode="native")
if sys.argv[2] == "1":
    import oslo_service.backend
import importlib
importlib.import_module(sys.argv[1])
print(json.dumps({"chain": patchguard.state().eventlet_imported_by,
                  "loaded": "eventlet" in sys.modules}))
"""


def probe(module: str, backend_first: bool) -> str:
    """Import ``module`` natively in a fresh interpreter; return the chain
    (``-`` when eventlet was not imported, ``error`` on failure)."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, module, "1" if backend_first else "0"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "EVENTLET_TESTS": "1"},
    )
    if proc.returncode != 0:
        return "error: " + (proc.stderr.strip().splitlines() or ["?"])[-1]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if not out["loaded"]:
        return "-"
    return str(out["chain"] or "(before patchguard)")


def main() -> None:
    """Print one markdown-ish row per installed module."""
    for module, dist in MODULES.items():
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
        plain = probe(module, False)
        with_backend = probe(module, True) if plain != "-" else "-"
        print(f"{dist} {version} | {module} | {plain} | {with_backend}")


if __name__ == "__main__":
    main()
