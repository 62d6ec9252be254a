"""``patchguard check``: does this entry point start up right on its own?

The target is imported exactly as the service would import it (a script
runs under a name other than ``__main__``, so its ``main()`` does not
start), with patchguard watching but *not* bootstrapped first.  Then every
finding about that start-up is reported: where the patching decision was
made (the target's own ``import patchguard.bootstrap``, a bare
``eventlet.monkey_patch()`` at ``file:line``, or nowhere), and what went
wrong around it.

The import runs in a child process (:mod:`patchguard._cli.probe`) in a
process group of its own, so nothing the target does can break the
report: its output goes to stderr; ``sys.exit()``, ``os._exit()``,
``KeyboardInterrupt``, non-daemon threads and hangs past ``--timeout``
become findings; and the group is killed when the child is done, so
nothing the target started outlives ``check``.  ``check`` exits with its
own status: 0 clean, 1 hazards, 2 usage or configuration errors.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile

from patchguard import warn
from patchguard._cli import probe as _probe
from patchguard._cli import report as _report
from patchguard._cli.target import UsageError
from patchguard._decision import policy as _policy
from patchguard._errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from patchguard._cli.target import Target

#: Seconds a stopped child gets to write its report before SIGKILL.
GRACE = 5.0
#: patchguard's variables and who reads them (the rest are typos).
_READ_BY = {
    _policy.MODE_VAR: "bootstrap",
    _policy.PATCH_VAR: "bootstrap",
    _policy.PROJECT_VAR: "bootstrap",
    _policy.STRICT_VAR: "bootstrap",
    "PATCHGUARD_EXPECT": "the pytest plugin",
}


def validate_environment() -> None:
    """Validate ``PATCHGUARD_*`` (and the legacy switches) as the
    bootstrap will, before anything runs.

    :raises ConfigError: naming the variable, value and accepted values.
    """
    _policy.decide(os.environ)


def _child(
    target: Target, args: list[str], timeout: float, modules: bool = False
) -> list[str]:
    # ``-c`` with our own package directory in place of ``-c``'s working
    # directory, not ``-m``: the child must load this very patchguard even
    # when the working directory holds another ``patchguard/`` (a source
    # checkout); the target's own sys.path[0] replaces it afterwards.
    home = os.path.dirname(os.path.dirname(os.path.abspath(warn.__file__)))
    code = (
        f"import sys; sys.path[0] = {home!r}; "
        f"from patchguard._cli.probe import main; main(sys.argv[1:])"
    )
    spec = json.dumps(
        {"target": target.to_dict(), "args": args, "modules": modules}
    )
    return [sys.executable, "-c", code, "{result}", spec, str(timeout)]


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _run_child(
    target: Target, args: list[str], timeout: float, modules: bool = False
) -> tuple[dict[str, Any] | None, int | None]:
    """Import the target in a child; return its result and exit status."""
    with tempfile.TemporaryDirectory(prefix="patchguard-check-") as tmp:
        result_path = os.path.join(tmp, "result.json")
        cmd = _child(target, args, timeout, modules)
        cmd[cmd.index("{result}")] = result_path
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter
            cmd,
            stdin=subprocess.DEVNULL,
            # The target's prints (and its children's) go to stderr: stdout
            # carries the report alone.
            stdout=sys.stderr.fileno(),
            start_new_session=True,
        )
        try:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                # Ask it to report where it is blocked; then force it.
                try:
                    os.kill(proc.pid, _probe.STOP_SIGNAL)
                    proc.wait(GRACE)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
        finally:
            _kill_group(proc.pid)
            proc.wait()
        try:
            with open(result_path, encoding="utf-8") as result:
                return json.load(result), proc.returncode
        except (OSError, ValueError):
            return None, proc.returncode


def _no_report(returncode: int | None, timeout: float) -> dict[str, Any]:
    if returncode is not None and returncode < 0:
        how = f"was killed by signal {-returncode}"
    else:
        how = f"ended with status {returncode}"
    message = (
        f"the process importing the entry point {how} before it could "
        f"report (a crash, a C-level _exit, or a hang past --timeout="
        f"{timeout:g} s that ignored check's stop signal); nothing is "
        f"known about its state."
    )
    finding = warn.Finding(warn.PatchGuardWarning, message).to_dict()
    return {
        "decision": {"kind": "none", "site": None, "text": "unknown"},
        "state": None,
        "findings": [finding],
    }


def ignored_variables(
    state: dict[str, Any] | None, decision: str | None = None
) -> list[dict[str, str]]:
    """Say which ``PATCHGUARD_*`` variables had no effect on the target.

    :param state: the target's state (``PatchState.to_dict()``), or
        ``None`` when unknown.
    :param decision: the probe's decision kind (``"refused"``: the
        bootstrap read the variables, then refused to patch).
    :returns: ``{"variable", "value", "reason"}`` for each.
    """
    ignored = []
    mode = state["mode"] if state else "unset"
    decided_by = state["decided_by"] if state else None
    for name, value in sorted(os.environ.items()):
        if not name.startswith("PATCHGUARD_") or not value.strip():
            continue
        reader = _READ_BY.get(name)
        if reader is None:
            reason = "patchguard reads no variable of that name"
        elif reader != "bootstrap":
            reason = f"only {reader} reads it"
        elif state is None or decision == "refused":
            continue
        elif mode == "unset":
            reason = (
                "the target never bootstrapped (no `import "
                "patchguard.bootstrap`, no patchguard.apply()), so nothing "
                "read it"
            )
        elif name == _policy.MODE_VAR and value.strip().lower() != "auto":
            if decided_by == name:
                continue
            reason = f"the mode was decided by {decided_by} instead"
        elif name == _policy.PATCH_VAR and mode == "native":
            reason = "the target runs native: nothing is patched"
        else:
            continue
        ignored.append({"variable": name, "value": value, "reason": reason})
    return ignored


def check(
    target: Target,
    args: list[str],
    as_json: bool,
    timeout: float,
    migration: bool = False,
) -> tuple[int, str]:
    """Import ``target`` under watch in a child; return status and output.

    :param target: the resolved target.
    :param args: the target's arguments (its ``sys.argv[1:]``).
    :param as_json: render JSON instead of the human report.
    :param timeout: seconds the import may take before it is stopped.
    :param migration: also judge whether it can run native
        (:mod:`patchguard._cli.migration`); the status is then that
        verdict: 0 can run native, 1 blocked.
    :returns: the exit status (0 clean, 1 hazards) and the text to print.
    :raises ConfigError: when the target's own bootstrap call is invalid.
    :raises UsageError: when a ``MODULE:FUNCTION`` names no function.
    """
    result, returncode = _run_child(target, args, timeout, migration)
    if result is None:
        result = _no_report(returncode, timeout)
    if "config_error" in result:
        bad = result["config_error"]
        raise ConfigError(
            bad["error"], bad["name"], bad["value"], tuple(bad["accepted"])
        )
    if "usage_error" in result:
        bad = result["usage_error"]
        raise UsageError(
            bad["error"], bad["argument"], bad["value"], bad["accepted"]
        )
    findings = result["findings"]
    ignored = ignored_variables(result["state"], result["decision"]["kind"])
    status = 1 if findings else 0
    moved: dict[str, Any] | None = None
    if migration:
        from patchguard._cli import migration as _migration

        moved = _migration.verdict(result, target.module)
        status = 0 if moved["verdict"] == "can run native" else 1
    if as_json:
        payload = {
            "target": target.describe(),
            "decision": result["decision"],
            "state": result["state"],
            "findings": findings,
            "ignored_variables": ignored,
            "status": status,
        }
        if moved is not None:
            payload["migration"] = moved
        return status, json.dumps(payload, indent=2, sort_keys=True) + "\n"
    lines = [
        f"patchguard check {target.describe()}",
        f"decision    {result['decision']['text']}",
    ]
    body = _report.render(result["state"], findings)
    for item in ignored:
        lines.append(
            f"ignored     {item['variable']}={item['value']}: {item['reason']}"
        )
    verdict = f"{len(findings)} hazard(s)" if findings else "clean"
    lines.append(body + f"result      {verdict}")
    if moved is not None:
        lines.append(_migration.render(moved).rstrip("\n"))
    return status, "\n".join(lines) + "\n"
