"""The one source of truth about what is patched.

The decision is recorded here once (by
:mod:`patchguard._decision.apply`); everyone else reads it through
:func:`state`.  What is *patched* is never taken from
eventlet's bookkeeping: eventlet's ``is_monkey_patched('threading')`` is
False after a full patch because its registry is keyed by option names.
Instead :attr:`PatchState.patched` and :attr:`PatchState.modules` look at
the actual objects (``threading.Lock``, ``socket.socket``, ...) every time
they are read, so they stay true even if someone patched behind our back.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from patchguard._decision.policy import Decision

#: stdlib module → (attribute path inspected, how it is judged).
_PROBES = (
    ("os", "os.read"),
    ("select", "select.select"),
    ("socket", "socket.socket"),
    ("ssl", "ssl.SSLContext"),
    ("subprocess", "subprocess.Popen"),
    ("threading", "threading.Lock"),
    ("time", "time.sleep"),
    ("queue", "queue.Queue"),
)
#: eventlet option → stdlib module whose object proves it is in effect.
_OPTION_MODULE = {
    "os": "os",
    "select": "select",
    "socket": "socket",
    "subprocess": "subprocess",
    "thread": "threading",
    "time": "time",
}


def _is_green(obj: object, depth: int = 3) -> bool:
    # A library may wrap a patched function (a timing or retry decorator
    # assigned back over ``time.sleep``): its ``__module__`` is the
    # library's, yet calling it still yields.  Look through the wrapper to
    # what it calls: ``__wrapped__``, ``functools.partial.func``, and the
    # callables in its closure.
    module = getattr(obj, "__module__", None) or ""
    if module == "eventlet" or module.startswith("eventlet."):
        return True
    if depth == 0 or obj is None:
        return False
    inner = getattr(obj, "__wrapped__", None)
    if inner is None and type(obj).__name__ == "partial":
        inner = getattr(obj, "func", None)
    if inner is not None and inner is not obj:
        return _is_green(inner, depth - 1)
    closure = getattr(obj, "__closure__", None)
    if closure:
        for cell in closure:
            try:
                item = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if callable(item) and _is_green(item, depth - 1):
                return True
    return False


def _lookup(dotted: str) -> object:
    module_name, attr = dotted.split(".")
    module = sys.modules.get(module_name)
    if module is None:
        module = __import__(module_name)
    return getattr(module, attr, None)


def module_modes() -> dict[str, str]:
    """Judge each patchable stdlib module by its actual objects.

    :returns: module name → ``"green"`` or ``"native"``.
    """
    result = {}
    for name, dotted in _PROBES:
        green = _is_green(_lookup(dotted))
        if name == "queue" and green:
            # eventlet swaps the C SimpleQueue for the Python one; a C
            # SimpleQueue left in place blocks the hub.
            import _queue
            import queue

            green = queue.SimpleQueue is not _queue.SimpleQueue
        result[name] = "green" if green else "native"
    return result


def patched_options() -> frozenset[str]:
    """Return the eventlet option names really in effect right now.

    :returns: a frozenset such as ``{"os", "socket", "thread", ...}``.
    """
    if "eventlet" not in sys.modules:
        # Nothing can be green without eventlet loaded; skip importing the
        # probed modules on the native fast path.
        return frozenset()
    modes = module_modes()
    found = {
        opt for opt, mod in _OPTION_MODULE.items() if modes[mod] == "green"
    }
    psycopg2 = sys.modules.get("psycopg2.extensions")
    if psycopg2 is not None:
        get_wait = getattr(psycopg2, "get_wait_callback", None)
        if get_wait is not None and _is_green(get_wait()):
            found.add("psycopg")
    mysqldb = sys.modules.get("MySQLdb")
    if mysqldb is not None and _is_green(getattr(mysqldb, "connect", None)):
        found.add("MySQLdb")
    import builtins

    if _is_green(builtins.open):
        found.add("builtins")
    return frozenset(found)


class PatchState:
    """What patchguard decided and what is really in effect.

    :ivar mode: ``"eventlet"``, ``"native"``, or ``"unset"`` before any
        bootstrap.
    :ivar decided_by: the variable, argument or detector that decided
        (``"PATCHGUARD_MODE"``, ``"wsgi:mod_wsgi"``, ``"default"`` ...),
        ``None`` while unset.
    :ivar reason: one sentence explaining the decision.
    :ivar requested: the eventlet options patchguard asked eventlet for.
    :ivar wsgi_host: ``"mod_wsgi"``/``"uwsgi"`` or ``None``.
    :ivar tool: the lint/doc/config tool detected, or ``None``.
    :ivar debugger: the debugger detected, or ``None``.
    :ivar project: the project name used for legacy variables, or ``None``.
    :ivar strict: whether strict mode is on.
    :ivar site: ``file:line`` of the code that made the decision.
    :ivar thread: the name of the thread that made the decision.
    :ivar early_threads: threads already running when patching happened.
    :ivar stale_refs: module-level places (globals, their containers,
        classes, defaults, closures) still holding objects patching
        replaced, and multiprocessing locks/queues, which never go green.
    :ivar late_patches: later ``eventlet.monkey_patch()`` calls.
    :ivar foreign_threads: OS threads that never ran Python when patching
        happened (faulthandler's watchdog, C library threads): information,
        never a hazard.
    :ivar allow_eventlet: modules allowed to import eventlet in native
        mode (``PATCHGUARD_ALLOW_EVENTLET``).
    :ivar findings: every finding, as reported by :mod:`patchguard.warn`;
        a bare ``eventlet.monkey_patch()`` made outside patchguard is
        audited the same way and records its findings here too.
    """

    def __init__(
        self,
        decision: Decision | None = None,
        site: str | None = None,
        thread: str | None = None,
    ) -> None:
        self.mode = decision.mode if decision else "unset"
        self.decided_by = decision.decided_by if decision else None
        self.reason = (
            decision.reason if decision else "patchguard has not bootstrapped"
        )
        self.requested: frozenset[str] = (
            decision.options if decision else frozenset()
        )
        self.wsgi_host = decision.wsgi_host if decision else None
        self.tool = decision.tool if decision else None
        self.debugger = decision.debugger if decision else None
        self.project = decision.project if decision else None
        self.strict = decision.strict if decision else False
        self.allow_eventlet: frozenset[str] = (
            decision.allow_eventlet if decision else frozenset()
        )
        self.site = site
        self.thread = thread
        #: real OS thread ident of the thread that bootstrapped (the hub's
        #: thread in eventlet mode).
        self.hub_thread: int | None = None
        self.early_threads: list[Any] = []
        self.stale_refs: list[Any] = []
        self.late_patches: list[Any] = []
        self.foreign_threads: list[Any] = []
        self.findings: list[Any] = []

    @property
    def watchdog(self) -> dict[str, int]:
        """The watchdog's counts: ``stalls`` (every stall, merged repeats
        included), ``stall_reports`` (distinct reports), ``stuck_tasks``
        and ``saturated`` (read live)."""
        return dict(watchdog_counts)

    @property
    def patched(self) -> frozenset[str]:
        """The eventlet option names really in effect (read live)."""
        return patched_options()

    @property
    def modules(self) -> dict[str, str]:
        """stdlib module → ``"green"``/``"native"``, from the objects."""
        if "eventlet" not in sys.modules:
            return {name: "native" for name, _ in _PROBES}
        return module_modes()

    @property
    def oslo_backend(self) -> dict[str, Any] | None:
        """oslo.service's backend (read live), or ``None`` when oslo.service
        is not imported: ``{"backend", "selected_by", "executor"}`` where
        ``executor`` is what oslo.messaging would pick (``None`` when it
        is not imported)."""
        hook = sys.modules.get("patchguard._hooks.oslo_backend")
        if hook is None or "oslo_service.backend" not in sys.modules:
            return None
        chosen = hook.selection
        return {
            "backend": hook.backend(),
            "selected_by": chosen.describe() if chosen else None,
            "executor": hook.executor(),
        }

    @property
    def eventlet_imported_by(self) -> str | None:
        """The import chain of the first ``import eventlet`` patchguard saw
        (``a.py:1 -> b.py:2 -> eventlet``), or ``None``."""
        hook = sys.modules.get("patchguard._hooks.eventlet_import")
        if hook is None or not hook.chain:
            return None
        return str(hook.describe())

    @property
    def dns(self) -> str:
        """Which resolver ``socket.getaddrinfo`` uses (read live).

        ``"green"`` when eventlet's resolver (``eventlet.support.greendns``,
        on unless ``EVENTLET_NO_GREENDNS=yes``) replaced the stdlib's,
        else ``"system"``: the C resolver, which blocks the hub for the
        whole lookup in a patched process.
        """
        socket = sys.modules.get("socket")
        if "eventlet" not in sys.modules or socket is None:
            return "system"
        module = getattr(socket.getaddrinfo, "__module__", "") or ""
        return "green" if module.startswith("eventlet.") else "system"

    @property
    def hub(self) -> str | None:
        """The eventlet hub in effect (read live), ``None`` when eventlet
        is not loaded.

        The hub running on this thread if there is one, else what eventlet
        will pick: ``EVENTLET_HUB`` or its default (epolls on Linux).
        """
        hubs = sys.modules.get("eventlet.hubs")
        if hubs is None:
            return None
        local = getattr(hubs, "_threadlocal", None)
        hub = getattr(local, "hub", None)
        if hub is not None:
            return str(type(hub).__module__)
        chosen = getattr(local, "Hub", None)
        if chosen is not None:
            return str(chosen.__module__)
        import os

        named = os.environ.get("EVENTLET_HUB", "").strip()
        if named:
            return named if "." in named else f"eventlet.hubs.{named}"
        try:
            return str(hubs.get_default_hub().__name__)
        except Exception:  # noqa: BLE001 - eventlet's HubError
            return None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable snapshot.

        :returns: a dict of plain strings, lists and dicts.
        """
        return {
            "mode": self.mode,
            "patched": sorted(self.patched),
            "requested": sorted(self.requested),
            "modules": self.modules,
            "decided_by": self.decided_by,
            "reason": self.reason,
            "wsgi_host": self.wsgi_host,
            "tool": self.tool,
            "debugger": self.debugger,
            "project": self.project,
            "strict": self.strict,
            "site": self.site,
            "thread": self.thread,
            "early_threads": [_plain(t) for t in self.early_threads],
            "stale_refs": [_plain(r) for r in self.stale_refs],
            "foreign_threads": [_plain(t) for t in self.foreign_threads],
            "dns": self.dns,
            "hub": self.hub,
            "late_patches": [_plain(c) for c in self.late_patches],
            "findings": [_plain(f) for f in self.findings],
            "watchdog": self.watchdog,
            "oslo_backend": self.oslo_backend,
            "eventlet_imported_by": self.eventlet_imported_by,
            "allow_eventlet": sorted(self.allow_eventlet),
        }

    def __repr__(self) -> str:
        return (
            f"PatchState(mode={self.mode!r}, "
            f"patched={sorted(self.patched)!r}, "
            f"decided_by={self.decided_by!r}, "
            f"findings={len(self.findings)})"
        )


def _plain(record: object) -> Any:
    to_dict = getattr(record, "to_dict", None)
    if to_dict is not None:
        return to_dict()
    return str(record)


def real_thread_ident() -> int:
    """Return the calling OS thread's ident, even when thread is patched.

    Patched ``threading.get_ident()`` returns a greenlet id; this always
    returns the OS thread's.
    """
    if "eventlet" in sys.modules:
        from eventlet import patcher

        return int(patcher.original("_thread").get_ident())
    import _thread

    return _thread.get_ident()


def on_hub_thread() -> bool:
    """Return True when the caller may use green primitives.

    That is: the process is in eventlet mode and the caller runs on the OS
    thread that bootstrapped it (where eventlet's hub runs) — or, in a
    process patched without the bootstrap, on an OS thread that has an
    eventlet hub.  A native thread in a patched process must never touch
    green primitives.
    """
    current = _current
    if current.mode == "eventlet" and current.hub_thread is not None:
        return real_thread_ident() == current.hub_thread
    if current.mode != "unset" or "thread" not in patched_options():
        return False
    # Patched without patchguard's bootstrap (a bare monkey_patch()): the
    # hub lives on whichever OS thread has one, per eventlet's own
    # thread-local (a real one: eventlet keeps it unpatched).
    hubs = sys.modules.get("eventlet.hubs")
    local = getattr(hubs, "_threadlocal", None)
    return getattr(local, "hub", None) is not None


#: What the watchdog found so far, process-wide (it may run before and
#: across a bootstrap, so it is not per PatchState); private, written only
#: by :mod:`patchguard._watchdog.monitor`.
watchdog_counts = {
    "stalls": 0,
    "stall_reports": 0,
    "stuck_tasks": 0,
    "saturated": 0,
}

#: The recorded state (private).
_current = PatchState()


def state() -> PatchState:
    """Return the process's :class:`PatchState`.

    Importing :mod:`patchguard` decides nothing: before a bootstrap the
    mode is ``"unset"`` (``patched`` still reports what is really green).

    :returns: the current state.
    """
    return _current


def effective_mode(current: PatchState) -> tuple[str, str]:
    """Return the mode the process is really in, and why.

    patchguard's own decision when it made one; otherwise what the process
    shows: ``eventlet`` once anything patched it (a suite's own
    ``tests/__init__.py``), else ``native``.

    :param current: the recorded state.
    :returns: ``(mode, explanation)``.
    """
    if current.mode != "unset":
        return current.mode, f"decided_by={current.decided_by}"
    # A project that decided for itself (nova's monkey_patch.py selecting
    # oslo.service's backend) has a mode too.
    hook = sys.modules.get("patchguard._hooks.oslo_backend")
    project = hook.project_decision() if hook is not None else None
    if project is not None:
        return str(project["mode"]), str(project["text"])
    if current.patched:
        return "eventlet", (
            f"not bootstrapped, but {current.decided_by or 'eventlet'} "
            f"patched it" + (f" at {current.site}" if current.site else "")
        )
    return "native", "not bootstrapped, nothing patched"


def record(new: PatchState) -> None:
    """Record the decision (called once, by :mod:`patchguard._decision.apply`).

    :param new: the state to publish.
    """
    global _current
    _current = new
