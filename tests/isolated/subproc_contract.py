"""The contract of patchguard.subproc in one mode and placement.

Usage: ``subproc_contract.py - hub|thread`` with ``PATCHGUARD_MODE`` set.
Prints the backend chosen, what pipes are made of, ``with``/retry
behaviour, the class and message of every error, leftover children and
descriptors, and (eventlet mode) the hub's longest stall.
"""

import select
import signal
import subprocess
import sys

from subproc_common import (
    GREEN,
    WHERE,
    Ticker,
    children,
    emit,
    fds,
    kind,
    run_here,
)

from patchguard import subproc


def catch(fn) -> dict | None:  # type: ignore[no-untyped-def]
    """Call ``fn``; describe what it raised (None if nothing)."""
    try:
        fn()
    except BaseException as exc:  # described, not handled
        return {
            "type": kind(exc),
            "message": str(exc),
            "cmd": repr(getattr(exc, "cmd", None)),
            "timeout": getattr(exc, "timeout", None),
            "output": repr(getattr(exc, "output", None)),
        }
    return None


def wait_readable(stream) -> None:  # type: ignore[no-untyped-def]
    """Wait until ``stream`` has data or its end (read nothing)."""
    waiter = select
    if GREEN and WHERE == "thread":
        # A native thread must never make itself a hub: the real select.
        from eventlet import patcher

        waiter = patcher.original("select")
    waiter.select([stream], [], [], 30)


def body() -> dict:
    """Exercise the public API; return what a user would observe."""
    facts: dict = {"backend": subproc.backend()}
    with subproc.Popen(
        ["cat"], stdin=subproc.PIPE, stdout=subproc.PIPE, text=True
    ) as proc:
        proc.stdin.write("ping\n")
        proc.stdin.flush()
        facts["readline"] = proc.stdout.readline()
        facts["pipe_raw"] = type(proc.stdout.buffer.raw).__name__
        facts["is_popen"] = isinstance(proc, subproc.Popen)
        proc.stdin.close()
    facts["with_returncode"] = proc.returncode

    # Read through the hub in eventlet mode: the timeout carries what
    # was read so far (waited for first: a loaded machine may take a
    # while to start sh).
    proc = subproc.Popen(
        ["sh", "-c", "echo a; sleep 1; echo b"], stdout=subproc.PIPE
    )
    wait_readable(proc.stdout)
    facts["first_try"] = catch(lambda: proc.communicate(timeout=0.3))
    facts["retry_out"] = proc.communicate(timeout=10)[0].decode()
    facts["retry_rc"] = proc.returncode

    if GREEN and WHERE == "hub":
        # A KeyboardInterrupt while communicate() waits on the hub loses
        # nothing: the retry returns every byte (the stdlib supports such
        # retries, bpo-25942).
        proc = subproc.Popen(
            ["sh", "-c", "echo a; sleep 1; echo b"], stdout=subproc.PIPE
        )
        wait_readable(proc.stdout)

        def interrupt(signum, frame):  # type: ignore[no-untyped-def]
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGALRM, interrupt)
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        try:
            proc.communicate()
        except KeyboardInterrupt:
            facts["interrupted"] = True
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        facts["after_interrupt"] = proc.communicate(timeout=10)[0].decode()

    # As the stdlib: a pipe that ended empty shows b"", one still open
    # and empty None.
    with subproc.Popen(
        ["sh", "-c", "exec >&-; sleep 1"],
        stdout=subproc.PIPE,
        stderr=subproc.PIPE,
    ) as proc:
        wait_readable(proc.stdout)  # its end of file
        try:
            proc.communicate(timeout=0.3)
        except subprocess.TimeoutExpired as exc:
            facts["ended_empty"] = [repr(exc.output), repr(exc.stderr)]
        proc.communicate()

    # The same over the size that moves on a native thread in eventlet
    # mode: the timeout carries what was read so far, the retry returns
    # every byte, both as one bytes object.
    proc = subproc.Popen(
        [
            "sh",
            "-c",
            "head -c 3000000 /dev/zero; sleep 1; head -c 2000000 /dev/zero",
        ],
        stdout=subproc.PIPE,
        stderr=subproc.PIPE,
    )
    try:
        proc.communicate(timeout=0.5)
    except subprocess.TimeoutExpired as exc:
        facts["bulk_first_try"] = [
            len(exc.output or b""),
            len(exc.stderr or b""),
        ]
    out, err = proc.communicate(timeout=30)
    facts["bulk_retry"] = [len(out), out.count(0), len(err)]

    result = subproc.run(
        ["sh", "-c", "cat; echo err >&2"],
        input="x\r\ny",
        capture_output=True,
        text=True,
    )
    facts["text_run"] = [result.stdout, result.stderr, result.returncode]
    # Over the size where the green backend joins and decodes on a native
    # thread, in 1 MiB steps that split multi-byte characters and \r\n.
    big = subproc.run(
        ["sh", "-c", "yes '\u00e9\u20ac\r' | head -n 800000; printf 'a\rb'"],
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    facts["big_text_ok"] = big.stdout == "\u00e9\u20ac\n" * 800000 + "a\nb"
    facts["big_input"] = (
        subproc.run(["wc", "-c"], input=b"x" * 5_000_000, capture_output=True)
        .stdout.strip()
        .decode()
    )
    # The same through a user's Popen (green file objects in eventlet
    # mode): the bulk moves on a native thread, stdin still reaches EOF.
    with subproc.Popen(
        ["wc", "-c"], stdin=subproc.PIPE, stdout=subproc.PIPE
    ) as proc:
        facts["popen_big_input"] = (
            proc.communicate(b"x" * 5_000_000)[0].strip().decode()
        )
    facts["execute"] = list(
        subproc.execute(
            "sh",
            "-c",
            "cat; echo e >&2; exit 2",
            input="in",
            check_exit_code=[2],
        )
    )

    facts["errors"] = {
        "timeout": catch(lambda: subproc.run(["sleep", "5"], timeout=0.05)),
        "check": catch(lambda: subproc.run(["false"], check=True)),
        "check_call": catch(lambda: subproc.check_call(["false"])),
        "check_output": catch(
            lambda: subproc.check_output(["sh", "-c", "exit 4"])
        ),
        "call_timeout": catch(
            lambda: subproc.call(["sleep", "5"], timeout=0.05)
        ),
        "missing": catch(
            lambda: subproc.run(["/nonexistent/patchguard-missing"])
        ),
        "non_string": catch(lambda: subproc.run(["echo", "ok", 42])),
        "negative": catch(lambda: subproc.run(["sleep", "5"], timeout=-1)),
        "string_timeout": catch(lambda: subproc.run(["true"], timeout="5")),
        "nan": catch(
            lambda: subproc.check_output(["true"], timeout=float("nan"))
        ),
        "empty": catch(lambda: subproc.run([])),
        "missing_cwd": catch(
            lambda: subproc.run(["true"], cwd="/nonexistent/patchguard-dir")
        ),
        "execute_fail": catch(lambda: subproc.execute("sh", "-c", "exit 3")),
        "execute_timeout": catch(
            lambda: subproc.execute("sleep", "5", timeout=0.05)
        ),
    }
    facts["children"] = children()
    return facts


# Warm up once (one-time imports, the unpatched subprocess copy, the hub's
# own descriptors) so the descriptor count below only sees leaks.
subproc.run(["true"], capture_output=True)
catch(lambda: subproc.execute("false"))
with Ticker() as ticker:
    before = fds()
    facts, hub_made = run_here(body)
    after = fds()
facts["hub_made"] = hub_made
# Control: the monkey-patched stdlib, called the same way, does create a
# hub on a native thread (so ``hub_made`` can tell the difference).
facts["control_hub_made"] = run_here(
    lambda: subprocess.check_output(["true"])
)[1]
facts["max_gap"] = ticker.max_gap
facts["leaked_fds"] = sorted(set(after) - set(before))
facts["eventlet_imported"] = "eventlet" in sys.modules
facts["stdlib_classes"] = {
    name: f"subprocess.{name}"
    for name in ("TimeoutExpired", "CalledProcessError", "CompletedProcess")
    if getattr(subproc, name) is getattr(subprocess, name)
}
emit(facts)
