"""Find module globals that will keep native objects after patching.

``from time import sleep`` or ``from threading import Lock`` executed before
``monkey_patch()`` binds the original object into the importing module;
patching replaces ``time.sleep`` but not the copy, so that module blocks
the hub or loses mutual exclusion.  Instances made before patching (a
module-level ``Lock()``, ``SimpleQueue()`` or ``ssl.SSLContext()``) are just
as stuck.  This module snapshots, *before* patching, the identity of every
attribute eventlet is about to replace (from the ``__patched__`` lists of
``eventlet.green`` modules), then scans the modules imported so far.
Eventlet's, greenlet's, patchguard's and the standard library's own
internal references are skipped: they are eventlet's business, and
reporting them would be noise on every clean program.

Objects are looked for where real code keeps them (module globals, the
containers, classes, default arguments and closures hanging off them: see
:mod:`patchguard._detectors.walk`).  Also stale: a ``threading.local()``
made before patching (one value shared by every greenthread), and any
``multiprocessing`` lock or queue (a ``SemLock`` that blocks the OS thread
whether made before or after patching).  Names eventlet's green module
re-exports unchanged (``socket.timeout``) are never replaced, so holding
them is fine.
"""

from __future__ import annotations

import sys

from patchguard import warn
from patchguard._detectors import walk as _walk
from patchguard._record import Record

#: the fix for anything bound or started before patching.
FIX_ORDER = (
    "Fix: make `import patchguard.bootstrap` the first import of the entry "
    "point (cmd/__init__.py, tests/__init__.py), before anything that "
    "starts threads or binds these names."
)

#: eventlet option → (stdlib module, eventlet.green module) it patches.
_PATCHES = {
    "os": (("os", "os"),),
    "select": (("select", "select"), ("selectors", "selectors")),
    "socket": (("socket", "socket"), ("ssl", "ssl")),
    # threading first: an object known under several names is reported
    # under the one users import (``threading.Lock``, not ``_thread``'s).
    "thread": (
        ("threading", "threading"),
        ("_thread", "thread"),
        ("queue", "Queue"),
    ),
    "time": (("time", "time"),),
    "subprocess": (("subprocess", "subprocess"),),
}
#: replaced by monkey_patch() outside the ``__patched__`` lists.
_EXTRA = {"thread": (("threading", "RLock"), ("queue", "SimpleQueue"))}

_SKIP_TOP = (
    "eventlet",
    "greenlet",
    "patchguard",
    "wrapt",
    "__original_module_",
    "__patched_module_",
    # dnspython keeps the resolver functions it replaces on purpose; it is
    # imported by eventlet itself (greendns).
    "dns",
)
_TOOLING = frozenset(
    {
        "_pytest",
        "pytest",
        "pluggy",
        "_hypothesis_globals",
        "hypothesis",
        "coverage",
        "debugpy",
        "pydevd",
        "_pydevd_bundle",
        "_pydev_bundle",
        "_pydevd_frame_eval",
        "pydevd_plugins",
        # The embedding server's own modules load before any WSGI script
        # can bootstrap; WSGIHostWarning covers forcing eventlet there.
        "mod_wsgi",
        "uwsgi",
        "uwsgidecorators",
    }
)


class StaleRef(Record):
    """A module-level place still holding a native object after patching.

    :ivar module: the module holding it.
    :ivar attr: where in the module: the global's name, or a path such as
        ``LOCKS['db']``, ``Registry.lock``, ``retry(sleep=)`` or
        ``connect.<closure _time_sleep>``.
    :ivar original: what it holds, e.g. ``time.sleep`` or
        ``instance of _thread.lock``.
    """

    __slots__ = ("module", "attr", "original")

    def __init__(self, module: str, attr: str, original: str) -> None:
        self.module = module
        self.attr = attr
        self.original = original

    def describe(self) -> str:
        """Return ``module.attr -> original``."""
        return f"{self.module}.{self.attr} -> {self.original}"


class Snapshot:
    """What patching will replace, and which modules existed before it.

    :ivar originals: ``id(object)`` → (object, ``"module.attr"``).
    :ivar instance_types: native types whose instances go stale.
    :ivar modules: names of the modules imported before patching.
    """

    def __init__(self, options: frozenset[str]) -> None:
        import importlib

        # Listed first: the eventlet.green imports below bring in eventlet's
        # own dependencies (dnspython), whose references are eventlet's.
        self.modules = user_modules()
        self.instance_types = _instance_types(options)
        self.originals: dict[int, tuple[object, str]] = {}
        for option in sorted(options):
            for std_name, green_name in _PATCHES.get(option, ()):
                std = sys.modules.get(std_name)
                if std is None:
                    # Not imported yet: nobody can hold a copy of it.
                    continue
                green = importlib.import_module("eventlet.green." + green_name)
                names = list(getattr(green, "__patched__", ()))
                for attr in names:
                    # eventlet copies the green module's value over the
                    # stdlib's: the same object (socket.timeout) is kept.
                    if getattr(green, attr, None) is not getattr(
                        std, attr, None
                    ):
                        self._remember(std, std_name, attr)
            for std_name, attr in _EXTRA.get(option, ()):
                std = sys.modules.get(std_name)
                if std is not None:
                    self._remember(std, std_name, attr)

    def _remember(self, module: object, module_name: str, attr: str) -> None:
        obj = getattr(module, attr, None)
        if obj is None or isinstance(obj, (int, str, float, bool)):
            return
        self.originals.setdefault(id(obj), (obj, f"{module_name}.{attr}"))


def _instance_types(options: frozenset[str]) -> dict[type, str]:
    types: dict[type, str] = {}
    if "thread" in options:
        import _thread

        types[_thread.LockType] = "_thread.lock"
        types[_thread.RLock] = "_thread.RLock"
        # threading.local() before patching: one value for every
        # greenthread (nova's warning about oslo_context's store).
        types[_thread._local] = "_thread._local"
        if "_queue" in sys.modules or "queue" in sys.modules:
            import _queue

            types[_queue.SimpleQueue] = "_queue.SimpleQueue"
    if "socket" in options and "ssl" in sys.modules:
        types[sys.modules["ssl"].SSLContext] = "ssl.SSLContext"
    types.update(semlock_types())
    return types


def semlock_types() -> dict[type, str]:
    """Return the ``multiprocessing`` types that block the hub.

    Their ``acquire``/``get``/``wait`` block on a POSIX semaphore
    (``SemLock``) that no patch makes green.  Only what the process
    already imported is returned: nobody can hold one otherwise.

    :returns: type → label (``multiprocessing.Lock`` ...).
    """
    types: dict[type, str] = {}
    sync = sys.modules.get("multiprocessing.synchronize")
    if sync is not None:
        for name in ("SemLock", "Condition", "Event", "Barrier"):
            cls = getattr(sync, name, None)
            if isinstance(cls, type):
                types[cls] = f"multiprocessing.{name}"
    queues = sys.modules.get("multiprocessing.queues")
    if queues is not None:
        for name in ("Queue", "SimpleQueue"):
            cls = getattr(queues, name, None)
            if isinstance(cls, type):
                types[cls] = f"multiprocessing.{name}"
    return types


def _skipped(name: str) -> bool:
    top = name.split(".", 1)[0]
    if top.startswith(_SKIP_TOP):
        return True
    # The standard library's own internal references are eventlet's
    # concern (it patches them or relies on them); the test runner's and
    # debugger's are tooling that runs before any bootstrap by design.
    return (
        top in _STDLIB
        or top in _TOOLING
        or top.startswith(("_pydev", "pydev"))
    )


_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ()))


def scan(snapshot: Snapshot) -> list[StaleRef]:
    """Report what pre-patch modules still hold of the replaced objects.

    :param snapshot: taken before patching.
    :returns: one :class:`StaleRef` per stale place, in module order.
    """
    match = _walk.Matcher(snapshot.originals, snapshot.instance_types)
    return [
        StaleRef(module, where, label)
        for module, where, label in _walk.walk(snapshot.modules, match)
    ]


def user_modules() -> list[str]:
    """Return the names of loaded modules that are neither eventlet's,
    patchguard's, the standard library's nor tooling's.

    :returns: names from :data:`sys.modules`.
    """
    return [name for name in list(sys.modules) if not _skipped(name)]


def semlock_scan() -> list[StaleRef]:
    """Report ``multiprocessing`` locks and queues bound anywhere now.

    Unlike :func:`scan`, this also sees objects made after patching.

    :returns: one :class:`StaleRef` per place holding one.
    """
    kinds = semlock_types()
    if not kinds:
        return []
    match = _walk.Matcher({}, kinds)
    return [
        StaleRef(module, where, label)
        for module, where, label in _walk.walk(user_modules(), match)
    ]


def _is_semlock(ref: StaleRef) -> bool:
    return ref.original.startswith("instance of multiprocessing")


def message(refs: list[StaleRef]) -> str:
    """Return the message for stale references (culprits and fix).

    :param refs: the stale references.
    :returns: the text.
    """
    listed = "; ".join(r.describe() for r in refs)
    return (
        f"{len(refs)} module-level reference(s) still hold native objects "
        f"that patching replaced: {listed}. They block the hub or lose "
        f"mutual exclusion (a pre-patch threading.local is one value shared "
        f"by every greenthread). {FIX_ORDER} Or refer to them through "
        f"their module (time.sleep, not sleep)."
    )


def semlock_message(refs: list[StaleRef]) -> str:
    """Return the message for multiprocessing locks and queues.

    :param refs: where each one is bound.
    :returns: the text, culprits and fix included.
    """
    listed = "; ".join(r.describe() for r in refs)
    return (
        f"{len(refs)} multiprocessing lock(s)/queue(s) are bound in an "
        f"eventlet-patched process: {listed}. They wait on a POSIX "
        f"semaphore (SemLock) that no patch makes green, so a wait blocks "
        f"the hub and every greenthread, whether made before or after "
        f"patching. Fix: use threading/queue primitives (green once "
        f"patched) inside the process, keep multiprocessing to a native "
        f"process (PATCHGUARD_MODE=native), or talk to workers through "
        f"patchguard.subproc."
    )


def findings(refs: list[StaleRef], site: str | None) -> list[warn.Finding]:
    """Return one finding for replaced objects, one for multiprocessing.

    :param refs: what the scan found.
    :param site: ``file:line`` the findings are reported at.
    :returns: zero, one or two findings.
    """
    found = []
    plain = [r for r in refs if not _is_semlock(r)]
    semlocks = [r for r in refs if _is_semlock(r)]
    if plain:
        found.append(
            warn.Finding(warn.StaleReferenceWarning, message(plain), site)
        )
    if semlocks:
        found.append(
            warn.Finding(
                warn.StaleReferenceWarning, semlock_message(semlocks), site
            )
        )
    return found
