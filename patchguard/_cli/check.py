"""``patchguard check``: does this entry point start up right on its own?

The target is imported exactly as the service would import it (a script is
run under a name other than ``__main__``, so its ``main()`` does not
start), with patchguard watching but *not* bootstrapped first.  Then every
finding about that start-up is reported: where the patching decision was
made (the target's own ``import patchguard.bootstrap``, a bare
``eventlet.monkey_patch()`` at ``file:line``, or nowhere), and what went
wrong around it.
"""

from __future__ import annotations

import json
import sys
import warnings

from patchguard import _state, cli, warn
from patchguard._errors import ConfigError, PatchOrderError
from patchguard._hooks import eventlet as _eventlet
from patchguard._hooks import oslo_backend as _oslo_backend

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _import(target: cli.Target) -> None:
    cli._prepare_path(target)
    if target.module is not None:
        import importlib

        sys.argv = [target.module, *target.args]
        importlib.import_module(target.module)
    else:
        import runpy

        sys.argv = [str(target.script), *target.args]
        runpy.run_path(str(target.script), run_name=cli.CHECK_RUN_NAME)


def _decision() -> dict[str, Any]:
    current = _state.state()
    bare = [c for c in _eventlet.calls if c.mode == "unset"]
    if current.mode != "unset":
        return {
            "kind": "bootstrap",
            "site": current.site,
            "text": f"patchguard decided mode={current.mode} "
            f"(decided_by={current.decided_by}) at {current.site}",
        }
    if bare:
        return {
            "kind": "monkey_patch",
            "site": bare[0].site,
            "text": f"a bare {bare[0].describe()} patched the process",
        }
    project = _oslo_backend.project_decision()
    if project is not None:
        return project
    if "eventlet" not in sys.modules:
        # Nothing can be green without eventlet: a native process.
        return {
            "kind": "native",
            "site": None,
            "text": "mode native (eventlet never imported)",
        }
    return {"kind": "none", "site": None, "text": "no patching decision"}


def _findings(
    decision: dict[str, Any],
    captured: list[warnings.WarningMessage],
    error: BaseException | None,
) -> list[warn.Finding]:
    from patchguard._detectors import audit as _audit

    current = _state.state()
    # One list for every surface: the bare call's audit is already in it.
    _audit.settle(current)
    found = list(current.findings)
    if current.mode == "unset":
        # Nobody told patchguard the mode: judge oslo.service's backend
        # and oslo.messaging's executor by what is really patched.
        patched = "thread" in _state.patched_options()
        found.extend(
            _oslo_backend.findings("eventlet" if patched else "native")
        )
    for call in _eventlet.calls:
        if call.mode == "unset":
            found.append(
                warn.Finding(
                    warn.LatePatchWarning,
                    f"{call.describe()} patches the process outside "
                    f"patchguard: no mode policy, no audit, no native "
                    f"switch. Fix: replace it with `import "
                    f"patchguard.bootstrap` as the entry point's first "
                    f"import.",
                    call.site,
                )
            )
    if decision["kind"] == "none" and error is None:
        found.append(
            warn.Finding(
                warn.PatchGuardWarning,
                "the entry point never decides how it is patched: nothing "
                "imports patchguard.bootstrap, so the mode is left to "
                "whatever module happens to import eventlet first. Fix: "
                "make `import patchguard; patchguard.apply(default="
                '"native")` its first lines (native unless the operator '
                "asks for eventlet), or `import patchguard.bootstrap`.",
            )
        )
    messages = {f.message for f in found}
    for item in captured:
        if issubclass(item.category, warn.PatchGuardWarning) and (
            str(item.message) not in messages
        ):
            found.append(
                warn.Finding(
                    item.category,
                    str(item.message),
                    f"{item.filename}:{item.lineno}",
                )
            )
            messages.add(str(item.message))
    if error is not None:
        found.append(
            warn.Finding(
                warn.PatchGuardWarning,
                f"importing the entry point failed: "
                f"{type(error).__name__}: {error}",
            )
        )
    return found


def main(target: cli.Target, as_json: bool) -> int:
    """Import ``target`` under watch and report; return the exit status.

    :param target: the module or script to check.
    :param as_json: print JSON instead of the human report.
    :returns: 0 when clean, 1 when any hazard was found, 2 on a
        configuration error.
    """
    error: BaseException | None = None
    with warnings.catch_warnings(record=True) as captured:
        warnings.simplefilter("always", warn.PatchGuardWarning)
        try:
            _import(target)
        except ConfigError:
            raise
        except PatchOrderError as exc:
            error = exc
        except SystemExit as exc:
            if exc.code not in (None, 0):
                error = exc
        except Exception as exc:  # noqa: BLE001 - reported as a finding
            error = exc
    decision = _decision()
    findings = _findings(decision, list(captured), error)
    status = cli.EXIT_HAZARD if findings else cli.EXIT_OK
    if as_json:
        payload = {
            "target": target.describe(),
            "decision": decision,
            "state": _state.state().to_dict(),
            "findings": [f.to_dict() for f in findings],
            "status": status,
        }
        print(json.dumps(payload, indent=2, sort_keys=True))
    else:
        from patchguard._cli import report as _report

        print(f"patchguard check {target.describe()}")
        print(f"decision    {decision['text']}")
        current = _state.state()
        body = _report.render(
            current, [f for f in findings if f not in current.findings]
        )
        sys.stdout.write(body)
        print(
            "result      "
            + ("clean" if status == 0 else f"{len(findings)} hazard(s)")
        )
    return status
