"""The group a child gets by default, with and without a terminal.

Usage: ``subproc_group.py plain|tty hub|thread`` with ``PATCHGUARD_MODE``
set, started by the test as the leader of a session of its own.  With
``tty`` its stdin is a pty whose input holds two lines, and it first
makes that pty its controlling terminal.  Prints whether it has a
controlling terminal, whether a default child leads a new session and a
group of its own, and (``tty``) what a child reading the terminal gets,
by default and in a background group of our session.
"""

import fcntl
import os
import subprocess
import sys
import termios

if sys.argv[1] == "tty":
    # Before anything else: a session leader takes a terminal this way.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)

from subproc_common import emit, run_here

from patchguard import subproc

READ = ["sh", "-c", "read x; echo got $x"]


def has_terminal() -> bool:
    """Whether /dev/tty opens (only with a controlling terminal)."""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY)
    except OSError:
        return False
    os.close(fd)
    return True


def read_line(**kwargs: object) -> str:
    """What a child reading the terminal printed, or how it ended."""
    try:
        result = subproc.run(READ, stdout=subprocess.PIPE, timeout=3, **kwargs)
    except subprocess.TimeoutExpired:
        return "timed out (stopped by SIGTTIN)"
    return result.stdout.decode().strip()


def body() -> dict:
    """Spawn with the defaults; describe where the child landed."""
    facts: dict = {"terminal": has_terminal()}
    with subproc.Popen(["sleep", "5"]) as child:
        facts["new_session"] = os.getsid(child.pid) == child.pid
        facts["own_group"] = os.getpgid(child.pid) == child.pid
        child.kill_group()
    if sys.argv[1] == "tty":
        facts["read_default"] = read_line()
        if sys.version_info >= (3, 11):  # no process_group before
            facts["read_background_group"] = read_line(
                start_new_session=False, process_group=0
            )
    return facts


result, hub_made = run_here(body)
result["hub_made"] = hub_made
emit(result)
