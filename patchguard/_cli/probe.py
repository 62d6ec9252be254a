"""``check``'s child: import the target under watch and report back.

Run as ``python -m patchguard._cli.probe RESULT TARGET_JSON``.  The
parent (:mod:`patchguard._cli.check`) starts it in a process group of its
own with stdout sent to stderr, so nothing the target prints can reach
the report.  Whatever the import does, the child writes one JSON result
to the file ``RESULT`` and ends itself with ``os._exit`` — never waiting
for the target's non-daemon threads or atexit handlers:

* the import returns, raises (any ``BaseException``, ``SystemExit`` and
  ``KeyboardInterrupt`` included) or calls ``os._exit()`` (wrapped here
  so the report is written first);
* the parent's ``--timeout`` expires and it sends :data:`STOP_SIGNAL`:
  the handler notes where the import was blocked and reports.

Only what the child cannot say (a crash, a C-level ``_exit``) is left
for the parent to report from the exit status.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import warnings

from patchguard import _state, _where, warn
from patchguard._cli import launch as _launch
from patchguard._cli import target as _target
from patchguard._errors import ConfigError, PatchOrderError
from patchguard._hooks import eventlet as _eventlet
from patchguard._hooks import oslo_backend as _oslo_backend

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FrameType, TracebackType
    from typing import Any, NoReturn

#: The parent asks a hung import to report with this signal: a real-time
#: one, which services (oslo.service: SIGHUP/SIGTERM/SIGINT, oslo.reports:
#: SIGUSR2) do not take for themselves.
STOP_SIGNAL = getattr(signal, "SIGRTMIN", signal.SIGUSR1) + 7

_real_exit = os._exit
_pid = os.getpid()
_captured: list[warnings.WarningMessage] = []
_result_path = ""
_timeout = 0.0
# check --migration: also report the file of every module imported.
_with_modules = False
#: ``(message, site)`` when the target's bootstrap refused to patch
#: (PATCHGUARD_STRICT raised PatchOrderError), else None.
_refused: tuple[str, str | None] | None = None


def _outside(filename: str) -> bool:
    # The user's (or the library's) code: not patchguard, the import
    # machinery, runpy, eventlet's hub or greenlet.
    if _where.is_internal(filename) or filename.endswith("runpy.py"):
        return False
    parts = filename.split(os.sep)
    return "eventlet" not in parts and "greenlet" not in parts


def _site_of_frame(frame: FrameType | None) -> str | None:
    while frame is not None:
        name = frame.f_code.co_filename
        if _outside(name) and "threading.py" not in name:
            return f"{name}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def _site_of_tb(tb: TracebackType | None) -> str | None:
    site = None
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if _outside(name):
            site = f"{name}:{tb.tb_lineno}"
        tb = tb.tb_next
    return site


def _blocked_at(frame: FrameType | None) -> str | None:
    site = _site_of_frame(frame)
    greenlet = sys.modules.get("greenlet")
    if site is None and greenlet is not None:
        # Eventlet mode: the signal lands in the hub; the import waits in
        # the main greenlet, parked at its last switch.
        root = greenlet.getcurrent()
        while root.parent is not None:
            root = root.parent
        site = _site_of_frame(getattr(root, "gr_frame", None))
    return site


def _finding(message: str, location: str | None = None) -> dict[str, Any]:
    return warn.Finding(warn.PatchGuardWarning, message, location).to_dict()


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
    if _refused is not None and not bare:
        # The bootstrap ran, read the variables and refused: not "never
        # decides", and nothing is patched.
        site = _refused[1]
        return {
            "kind": "refused",
            "site": site,
            "text": f"the bootstrap at {site or '?'} refused to patch "
            f"(PATCHGUARD_STRICT): nothing was patched",
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


def _findings(decision: dict[str, Any], ended: bool) -> list[warn.Finding]:
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
                    f"patchguard: PATCHGUARD_MODE and the "
                    f"OS_<PROJECT>_DISABLE_EVENTLET_PATCHING switches are "
                    f"never read, so an operator cannot run this entry "
                    f"point on native threads. Fix: replace it with "
                    f"`import patchguard.bootstrap` as the entry point's "
                    f"first import.",
                    call.site,
                )
            )
    if decision["kind"] == "none" and not ended:
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
    for item in _captured:
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
    return found


def _threads_left() -> list[dict[str, Any]]:
    threading = sys.modules.get("threading")
    if threading is None:
        return []
    from patchguard._hooks import threadwatch as _threadwatch

    # After patching there are two _MainThread objects (native and
    # green), and under the hub current_thread() is neither: the main
    # thread is never "left running".
    left = [
        t
        for t in threading.enumerate()
        if type(t).__name__ != "_MainThread"
        and t is not threading.main_thread()
        and not t.daemon
        and t.is_alive()
    ]
    if not left:
        return []
    names = ", ".join(
        f"{t.name!r} (started at {_threadwatch.started_at(t) or '?'})"
        for t in left
    )
    return [
        _finding(
            f"importing the entry point left non-daemon thread(s) "
            f"running: {names}. The process cannot exit while they run "
            f"(check ended it without waiting). Fix: start them in "
            f"main(), or make them daemon threads.",
            _threadwatch.started_at(left[0]),
        )
    ]


def _report(extra: list[dict[str, Any]], ended: bool) -> None:
    """Write the result file, then end this process at once."""
    try:
        decision = _decision()
        findings = [f.to_dict() for f in _findings(decision, ended)]
        result: dict[str, Any] = {
            "decision": decision,
            "state": _state.state().to_dict(),
            "findings": findings + extra + _threads_left(),
        }
        if _with_modules:
            from patchguard._cli import migration as _migration

            result["modules"] = _migration.module_files()
    except Exception as exc:  # noqa: BLE001 - the report must be written
        result = {
            "decision": {"kind": "none", "site": None, "text": "unknown"},
            "state": None,
            "findings": [
                *extra,
                _finding(f"check could not read the state: {exc!r}"),
            ],
        }
    _write(result)


def _write(result: dict[str, Any]) -> None:
    temporary = _result_path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as out:
        json.dump(result, out)
    os.replace(temporary, _result_path)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    _real_exit(0)


def _exit_wrapper(status: int) -> NoReturn:
    # os._exit skips every handler: report first (in this process only;
    # a forked child of the target exits as it asked).
    if os.getpid() == _pid:
        site = _site_of_frame(sys._getframe(1))
        _report(
            [
                _finding(
                    f"importing the entry point called os._exit({status!r})"
                    f": the process ends there, without cleanup, and "
                    f"nothing after it was checked. Fix: keep exits in "
                    f"main().",
                    site,
                )
            ],
            ended=True,
        )
    _real_exit(status)


def _on_stop(signum: int, frame: FrameType | None) -> None:
    site = _blocked_at(frame)
    where = f" at {site}" if site else ""
    _report(
        [
            _finding(
                f"importing the entry point did not finish within "
                f"{_timeout:g} s (--timeout); it was blocked{where} when "
                f"check stopped it. Fix: an import must not wait for "
                f"servers, locks or threads: do that in main() (or raise "
                f"--timeout if start-up is only slow).",
                site,
            )
        ],
        ended=True,
    )


def _ended(exc: BaseException) -> dict[str, Any]:
    site = _site_of_tb(exc.__traceback__)
    if isinstance(exc, SystemExit):
        return _finding(
            f"importing the entry point called sys.exit({exc.code!r}): "
            f"the process ends there and nothing after it was checked. "
            f"Fix: keep exits in main().",
            site,
        )
    kind = "" if isinstance(exc, Exception) else " (a BaseException)"
    return _finding(
        f"importing the entry point failed: {type(exc).__name__}{kind}: {exc}",
        site,
    )


def main(argv: list[str]) -> None:
    """Import the target, write the result, end the process.

    :param argv: ``[result_path, target_json, timeout_seconds]``.
    """
    global _result_path, _timeout, _captured, _with_modules, _refused
    # The ``python -c`` line that called us is check's, not the target's.
    _where.launchers.add(sys._getframe(1).f_code)
    _result_path, raw, timeout = argv
    _timeout = float(timeout)
    spec = json.loads(raw)
    _with_modules = bool(spec.get("modules"))
    target = _target.Target.from_dict(spec["target"])
    _launch.prepare(target, spec["args"])
    os._exit = _exit_wrapper
    signal.signal(STOP_SIGNAL, _on_stop)
    extra: list[dict[str, Any]] = []
    with warnings.catch_warnings(record=True) as captured:
        warnings.simplefilter("always", warn.PatchGuardWarning)
        # The same list: a report written from the os._exit wrapper or
        # the stop signal sees every warning caught so far.
        _captured = captured
        try:
            _launch.load_for_check(target)
        except ConfigError as exc:
            _write({"config_error": _config_dict(exc)})
        except _target.UsageError as exc:
            _write({"usage_error": _usage_dict(exc)})
        except PatchOrderError as exc:
            site = _site_of_tb(exc.__traceback__)
            _refused = (str(exc), site)
            # Shown as what the target raised, not as a warning.
            extra.append(
                {**_finding(str(exc), site), "category": "PatchOrderError"}
            )
        except BaseException as exc:  # noqa: BLE001 - every end is a finding
            extra.append(_ended(exc))
    _report(extra, ended=bool(extra))


def _config_dict(exc: ConfigError) -> dict[str, Any]:
    return {
        "error": str(exc),
        "name": exc.name,
        "value": None if exc.value is None else str(exc.value),
        "accepted": list(exc.accepted),
    }


def _usage_dict(exc: _target.UsageError) -> dict[str, Any]:
    return {
        "error": str(exc),
        "argument": exc.argument,
        "value": exc.value,
        "accepted": list(exc.accepted),
    }


if __name__ == "__main__":
    main(sys.argv[1:])
