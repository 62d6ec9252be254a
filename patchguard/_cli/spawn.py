"""``patchguard check --spawn MODULE:ATTR``: would it start with ``spawn``?

oslo.service's threading backend (and any ``multiprocessing`` spawn
context) sends the service object to the worker by pickling it.  This
imports ``MODULE`` as the entry point would, takes ``ATTR`` (called when
it is a plain function, so a factory can build the service and its
configuration), and prints every attribute path that does not pickle.
When something does not pickle the worker would be forked instead, so the
threads alive at that moment and the module-level locks held at that
moment are listed too: the fork strands the threads and leaves the locks
held for good in the child.
"""

from __future__ import annotations

import json
import os
import sys
import types

from patchguard._cli import EXIT_HAZARD, EXIT_OK
from patchguard._cli import target as _target

TYPE_CHECKING = False
if TYPE_CHECKING:
    from patchguard.warn import Finding


def _parse(argv: list[str]) -> tuple[str, bool]:
    spec = None
    as_json = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--json":
            as_json = True
        elif arg == "--spawn":
            if i + 1 >= len(argv):
                raise _target.UsageError("--spawn needs MODULE:ATTR")
            spec = argv[i + 1]
            i += 1
        elif arg.startswith("--spawn="):
            spec = arg.partition("=")[2]
        else:
            raise _target.UsageError(f"check --spawn takes no {arg!r}")
        i += 1
    module, colon, attr = (spec or "").partition(":")
    if not (module and colon and attr):
        raise _target.UsageError(
            f"--spawn={spec!r} is not valid; accepted: MODULE:ATTR such "
            f"as 'svc.cmd.worker:build_service'",
            "--spawn",
            spec,
            ("MODULE:ATTR",),
        )
    return f"{module}:{attr}", as_json


def _resolve(spec: str) -> object:
    import importlib

    module_name, _, attr = spec.partition(":")
    # As for ``-m``: the working directory first on sys.path.
    _target.set_path0(os.getcwd())
    obj: object = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    if isinstance(obj, types.FunctionType):
        obj = obj()
    return obj


def main(argv: list[str]) -> int:
    """Run ``check --spawn``; return the exit status.

    :param argv: the arguments after ``check``.
    :returns: 0 when the object pickles, 1 when some path does not.
    :raises UsageError: on a malformed ``--spawn`` value.
    """
    spec, as_json = _parse(argv)
    from patchguard._detectors import fork as _fork
    from patchguard._detectors import spawn as _spawn

    obj = _resolve(spec)
    name = spec.partition(":")[2]
    findings: list[Finding] = _spawn.spawn_ready(obj, name)
    threads = _fork.native_threads() if findings else []
    locks = _fork.held_locks() if findings else []
    status = EXIT_HAZARD if findings else EXIT_OK
    if as_json:
        payload = {
            "target": spec,
            "findings": [f.to_dict() for f in findings],
            "threads_at_fork": [t.to_dict() for t in threads],
            "locks_held_at_fork": locks,
            "status": status,
        }
        print(json.dumps(payload, indent=2, sort_keys=True))
        return status
    out = [f"patchguard check --spawn {spec}"]
    out.append(f"findings    {len(findings)}")
    for finding in findings:
        out.append(f"  {finding.category.__name__}")
        out.append(f"    {finding.message}")
    if findings:
        out.append(
            f"threads a fork would strand: {len(threads)}"
            + "".join(f"\n  {t.describe()}" for t in threads)
        )
        out.append(
            f"locks a fork would leave held: {len(locks)}"
            + "".join(f"\n  {lock}" for lock in locks)
        )
    out.append(
        "result      "
        + ("spawn-ready" if not findings else "would fork, not spawn")
    )
    sys.stdout.write("\n".join(out) + "\n")
    return status
