"""Secrets on the command line and in outputs never reach a log record
or an exception message, on success and on failure.

Usage: ``subproc_mask.py - hub|thread`` with ``PATCHGUARD_MODE`` set.
Prints where the secret leaked (nothing, hopefully), how many records
were logged, and whether execute() returned the output unmasked.
"""

import io
import logging
import uuid

from subproc_common import emit, kind, run_here

from patchguard import subproc

SECRET = f"hunter2{uuid.uuid4().hex[:10]}"
SCRIPT = 'echo "password=$2"; echo "token=$2" >&2; exit "$3"'

# execute()'s pause between attempts: short, the test is about masking.
subproc._RETRY_DELAY = (0.01, 0.02)
stream = io.StringIO()
handler = logging.StreamHandler(stream)
handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
logging.getLogger().addHandler(handler)
logging.getLogger().setLevel(logging.DEBUG)


def cmd(code: int) -> list[str]:
    """A command with the secret as an option value and in its output."""
    return ["sh", "-c", SCRIPT, "sh", "--password", SECRET, str(code)]


def body() -> dict:
    """Hit every success and failure path; collect what leaked where."""
    leaks = []
    out, err = subproc.execute(*cmd(0))
    raw = SECRET in out and SECRET in err
    attempts = {
        "execute_fail": lambda: subproc.execute(*cmd(3)),
        "execute_retry": lambda: subproc.execute(*cmd(3), attempts=2),
        "execute_timeout": lambda: subproc.execute(
            "sh", "-c", "sleep 5", "sh", f"password={SECRET}", timeout=0.05
        ),
        "run_check": lambda: subproc.run(
            cmd(3), check=True, capture_output=True
        ),
        "run_timeout": lambda: subproc.run(
            ["sh", "-c", "sleep 5", "sh", "--password", SECRET],
            timeout=0.05,
        ),
        "call_timeout": lambda: subproc.call(
            ["sh", "-c", "sleep 5", "sh", f"--password={SECRET}"],
            timeout=0.05,
        ),
        "check_call": lambda: subproc.check_call(cmd(3)),
        "check_output": lambda: subproc.check_output(cmd(3)),
        "check_output_str": lambda: subproc.check_output(  # noqa: S604
            f"exit 3; --password {SECRET}",
            shell=True,
        ),
        "popen_timeout": lambda: _popen_timeout(),
        "missing": lambda: subproc.run(f"/nonexistent --password={SECRET}"),
        "non_string": lambda: subproc.run(["x", "--password", SECRET, 5]),
    }
    raised = {}
    for name, attempt in attempts.items():
        try:
            attempt()
            raised[name] = None
        except Exception as exc:  # each one is inspected below
            raised[name] = kind(exc)
            texts = {
                "str": str(exc),
                "cmd": repr(getattr(exc, "cmd", "")),
                "pee_stdout": repr(getattr(exc, "stdout", ""))
                if name.startswith("execute")
                else "",
                "pee_stderr": repr(getattr(exc, "stderr", ""))
                if name.startswith("execute")
                else "",
            }
            leaks += [f"{name}.{k}" for k, v in texts.items() if SECRET in v]
    return {"leaks": leaks, "raw_success_output": raw, "raised": raised}


def _popen_timeout() -> None:
    with subproc.Popen(
        ["sh", "-c", "sleep 5", "sh", "--password", SECRET]
    ) as proc:
        try:
            proc.wait(timeout=0.05)
        finally:
            proc.kill_group()


facts, hub_made = run_here(body)
log = stream.getvalue()
facts["log_leaks"] = [line for line in log.splitlines() if SECRET in line]
facts["records"] = len([x for x in log.splitlines() if x[:1].isupper()])
facts["masked_in_log"] = "password=***" in log and "--password ***" in log
facts["hub_made"] = hub_made
emit(facts)
