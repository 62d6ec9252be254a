"""Secrets on the command line and in outputs never leave in any form.

Usage: ``subproc_mask.py - hub|thread`` with ``PATCHGUARD_MODE`` set and
a JSON list of cases on stdin: ``[secret, option, env_arg]``, e.g.
``["hunter2x", "--password", "OS_TOKEN"]``.  For each case every success
and failure path runs with the secret as an option value, as a
``KEY=VALUE`` argument and in stdout/stderr; every exception is searched
in ``str``, ``repr``, ``args``, ``cmd``, ``output``/``stdout``/``stderr``,
its pickle and its formatted traceback, and every log record (message,
arguments, formatted text).  Prints where a secret leaked (nothing,
hopefully) and whether successful calls returned the output unmasked.
"""

import json
import logging
import pickle
import sys
import traceback

from subproc_common import emit, kind, run_here

from patchguard import subproc

CASES = json.load(sys.stdin)
# execute()'s pause between attempts: short, the test is about masking.
subproc._RETRY_DELAY = (0.01, 0.02)
#: Prints the secret on both streams as ``key=secret``, then exits with
#: status $1 after sleeping $2 seconds; the rest of argv carries secrets.
SCRIPT = 'echo "$3"; echo "$3" >&2; sleep "$2"; exit "$1"'


class Records(logging.Handler):
    """Keep every record with its formatted text."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        self.seen: list[tuple[logging.LogRecord, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append((record, self.format(record)))


records = Records()
logging.getLogger().addHandler(records)
logging.getLogger().setLevel(logging.DEBUG)


def forms(exc: BaseException) -> dict[str, str]:
    """Every form in which an exception can leave the process."""
    found = {
        "str": str(exc),
        "repr": repr(exc),
        "args": repr(exc.args),
        "pickle": repr(pickle.dumps(exc)),
        "traceback": "".join(traceback.format_exception(exc)),
    }
    for attr in ("cmd", "output", "stdout", "stderr", "filename"):
        found[attr] = repr(getattr(exc, attr, None))
    return found


def attempts(secret: str, option: str, env_arg: str) -> dict:
    """Each path, as a callable, for one secret."""
    pair = f"{option.lstrip('-')}={secret}"  # key=value in the output
    extra = [option, secret, f"{option}={secret}", f"{env_arg}={secret}"]

    def cmd(code: int, pause: str = "0") -> list[str]:
        return ["sh", "-c", SCRIPT, "sh", str(code), pause, pair, *extra]

    def popen_wait() -> None:
        with subproc.Popen(cmd(0, "5")) as proc:
            try:
                proc.wait(timeout=0.05)
            finally:
                proc.kill_group()

    def popen_communicate() -> None:
        with subproc.Popen(cmd(0, "5"), stdout=subproc.PIPE) as proc:
            try:
                proc.communicate(timeout=0.3)
            finally:
                proc.kill_group()

    return {
        "execute_fail": lambda: subproc.execute(*cmd(3)),
        "execute_retry": lambda: subproc.execute(*cmd(3), attempts=2),
        "execute_timeout": lambda: subproc.execute(*cmd(0, "5"), timeout=0.3),
        "run_check": lambda: subproc.run(
            cmd(3), check=True, capture_output=True
        ),
        "run_timeout": lambda: subproc.run(
            cmd(0, "5"), capture_output=True, timeout=0.3
        ),
        "run_timeout_text": lambda: subproc.run(
            cmd(0, "5"), capture_output=True, text=True, timeout=0.3
        ),
        "call_timeout": lambda: subproc.call(cmd(0, "5"), timeout=0.05),
        "check_call": lambda: subproc.check_call(cmd(3)),
        "check_output": lambda: subproc.check_output(cmd(3)),
        "check_output_str": lambda: subproc.check_output(  # noqa: S604
            f"echo {pair}; exit 3; {option} {secret}", shell=True
        ),
        "popen_wait": popen_wait,
        "popen_communicate": popen_communicate,
        "missing": lambda: subproc.run(f"/nonexistent {option}={secret}"),
        "missing_list": lambda: subproc.run(["/nonexistent/x", *extra]),
        "non_string": lambda: subproc.run(["x", *extra, 5]),
    }


def body() -> dict:
    """Hit every success and failure path; collect what leaked where."""
    leaks: list[str] = []
    raised: dict[str, str | None] = {}
    raw = True
    for secret, option, env_arg in CASES:
        pair = f"{option.lstrip('-')}={secret}"
        extra = [option, secret, f"{env_arg}={secret}"]
        out, err = subproc.execute(
            "sh", "-c", 'echo "$1" >&2; echo "$1"', "sh", pair, *extra
        )
        done = subproc.run(["echo", pair, *extra], capture_output=True)
        raw = raw and secret in out and secret in err
        raw = raw and secret.encode() in done.stdout
        for name, attempt in attempts(secret, option, env_arg).items():
            try:
                attempt()
                raised[name] = None
            except Exception as exc:  # each one is inspected below
                raised[name] = kind(exc)
                leaks += [
                    f"{name}.{where}"
                    for where, text in forms(exc).items()
                    if secret in text
                ]
    return {
        "leaks": sorted(set(leaks)),
        "raw_success_output": raw,
        "raised": raised,
    }


facts, hub_made = run_here(body)
secrets = [case[0] for case in CASES]
log_leaks = []
for record, text in records.seen:
    shown = f"{text} {record.args!r} {record.msg!r}"
    log_leaks += [text for s in secrets if s in shown]
facts["log_leaks"] = log_leaks
facts["records"] = len(records.seen)
log = "\n".join(text for _, text in records.seen)
facts["masked_in_log"] = "=***" in log and " ***" in log
facts["hub_made"] = hub_made
emit(facts)
