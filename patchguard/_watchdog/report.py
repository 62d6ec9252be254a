"""Watchdog reports: plain records and their text.

A :class:`Report` is what the watchdog hands to the log, to
:func:`patchguard.watchdog.on_stall` callbacks and to
:func:`patchguard.watchdog.no_stall`.  Stacks are captured as
``(file, line, function, source)`` tuples while the frame is alive and
formatted only when a report is written.
"""

from __future__ import annotations

import linecache
import os
from dataclasses import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FrameType

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: patchguard's own pool plumbing (the watchdog's wrappers, the
#: executor's workers): noise in a task's stack.  Other patchguard frames
#: (a task blocked in ``subproc.run``) are where the task is, and stay.
_OWN = (
    os.path.join(_PACKAGE, "_watchdog") + os.sep,
    os.path.join(_PACKAGE, "_executor") + os.sep,
    os.path.join(_PACKAGE, "executor.py"),
)
#: deepest frames kept per stack (the innermost ones matter).
MAX_FRAMES = 40

Stack = tuple[tuple[str, int, str, str], ...]


def capture(frame: FrameType | None, limit: int = MAX_FRAMES) -> Stack:
    """Return ``frame``'s stack, outermost first, at most ``limit`` deep.

    Cheap on purpose (no file is read): see :func:`format_stack`.

    :param frame: the innermost frame, or ``None``.
    :param limit: how many frames to keep (innermost kept).
    :returns: ``(filename, lineno, function, "")`` tuples (the source
        line is read when formatted).
    """
    frames: list[tuple[str, int, str, str]] = []
    while frame is not None and len(frames) < limit:
        code = frame.f_code
        if code.co_filename.startswith(_OWN):
            # Pool plumbing is noise in a task's stack (see _OWN).
            frame = frame.f_back
            continue
        # No source line here: reading source files releases the GIL at
        # every system call, and a busy hub thread then keeps it for a
        # switch interval (5 ms) each time: 40 frames cost 0.35 s of wall
        # time, longer than the stall being reported.  format_stack reads
        # them, once the report has been handed over.
        frames.append(
            (code.co_filename, frame.f_lineno or 0, code.co_name, "")
        )
        frame = frame.f_back
    frames.reverse()
    return tuple(frames)


def thread_names() -> dict[int | None, str]:
    """OS thread ident → name, for the threads ``threading`` knows."""
    import threading

    return {t.ident: t.name for t in threading.enumerate()}


def format_stack(stack: Stack, indent: str = "  ") -> str:
    """Format a captured stack like a traceback (most recent call last).

    :param stack: as returned by :func:`capture`.
    :param indent: prefix of each ``File`` line.
    :returns: the text, one frame per two lines.
    """
    lines = []
    for filename, lineno, name, known in stack:
        lines.append(f'{indent}File "{filename}", line {lineno}, in {name}')
        source = known or linecache.getline(filename, lineno).strip()
        if source:
            lines.append(f"{indent}  {source}")
    return "\n".join(lines)


@dataclass
class Report:
    """One watchdog finding.

    :ivar kind: ``"stall"`` (the eventlet hub did not run),
        ``"stuck_task"`` (a pool task ran too long) or ``"saturated"``
        (every worker busy while the queue grew).
    :ivar duration: seconds the condition had lasted when detected (for a
        merged series of stalls: the longest).
    :ivar threshold: the threshold it crossed, in seconds.
    :ivar thread: name and ident of the OS thread concerned.
    :ivar stack: that thread's (or greenthread's) stack, outermost first.
    :ivar running: what was running: a greenthread's function, a task's
        callable, or the pool's queue size.
    :ivar spawned_at: where the running greenthread or task was spawned or
        submitted (``file:line``), when known.
    :ivar pool: the pool's name for task reports.
    :ivar waiting: other greenthreads' innermost user lines (stall reports).
    :ivar count: how many identical consecutive stalls this report stands
        for (always 1 for task reports).
    :ivar detail: what else was queued on the hub (stalls), or how the
        queue grew (saturation).
    """

    kind: str
    duration: float
    threshold: float
    thread: str
    stack: Stack = ()
    running: str = ""
    spawned_at: str | None = None
    pool: str | None = None
    waiting: list[str] = field(default_factory=list)
    count: int = 1
    detail: str = ""

    def signature(self) -> tuple[object, ...]:
        """What makes two consecutive stalls "identical"."""
        return (self.kind, self.thread, self.running, self.stack)

    def headline(self) -> str:
        """One line saying what happened."""
        if self.kind == "stall":
            text = (
                f"eventlet hub stalled: the hub on OS thread {self.thread} "
                f"did not run for at least {self.duration:.2f} s (threshold "
                f"{self.threshold:g} s)"
            )
        elif self.kind == "stuck_task":
            text = (
                f"stuck task in pool {self.pool}: {self.running} has run for "
                f"{self.duration:.2f} s (threshold {self.threshold:g} s) on "
                f"thread {self.thread}"
            )
        else:
            text = (
                f"pool {self.pool} saturated for {self.duration:.2f} s "
                f"(threshold {self.threshold:g} s): {self.detail}"
            )
        if self.count > 1:
            text += f" [{self.count} identical consecutive stalls]"
        return text

    def format(self) -> str:
        """The whole report as text (what the log line carries).

        :returns: headline, what ran, the stack and the fix.
        """
        lines = [self.headline()]
        if self.kind == "stall":
            lines.append(f"running greenthread: {self.running}")
            if self.spawned_at or self.running.startswith("GreenThread"):
                where = (
                    self.spawned_at
                    or "not recorded (spawned before the watchdog started)"
                )
                lines.append(f"spawned at: {where}")
            lines.append(f"{self.detail}")
        elif self.kind == "stuck_task" and self.spawned_at:
            lines.append(f"submitted at: {self.spawned_at}")
        if self.stack:
            lines.append("stack (most recent call last):")
            lines.append(format_stack(self.stack))
        if self.waiting:
            lines.append(
                "other greenthreads, where they wait (a lock the stalled "
                "code waits for may be held at one of these lines):"
            )
            lines.extend(f"  {w}" for w in self.waiting)
        lines.append(f"fix: {FIXES[self.kind]}")
        return "\n".join(line for line in lines if line)

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable dict of the report."""
        return {
            "kind": self.kind,
            "duration": round(self.duration, 3),
            "threshold": self.threshold,
            "thread": self.thread,
            "running": self.running,
            "spawned_at": self.spawned_at,
            "pool": self.pool,
            "count": self.count,
            "stack": [f"{f}:{n} in {fn}" for f, n, fn, _ in self.stack],
            "waiting": list(self.waiting),
            "detail": self.detail,
        }


FIXES = {
    "stall": (
        "the innermost user frame above blocked the hub: make it yield "
        "(eventlet.sleep(0) in CPU loops), use a pure-Python/patched driver "
        "(PyMySQL instead of MySQLdb), or move the call to a native thread "
        "(patchguard.threads.native_thread, eventlet.tpool.execute)"
    ),
    "stuck_task": (
        "give the call a timeout, or size the pool for calls this long"
    ),
    "saturated": (
        "raise the pool's max_workers, bound its queue, or find the tasks "
        "that hold the workers (stuck_task reports)"
    ),
}
