"""The eventlet usage patterns ``patchguard scan`` classifies.

Each pattern has a stable id (used in JSON reports and baselines, never
renamed), a flake8 code (``PGE1xx``, see :mod:`patchguard.scan.lint`), a
title and the replacement recipe.  The patterns and recipes follow the
eventlet removal guide (removal.eventlet.org, ``preparing.md`` "Locate
your Eventlet Usages" and ``threading.md`` "Key Migration Patterns") and
the OpenStack wiki's list (import, ``monkey_patch``, ``Timeout``,
greenthreads and pools, ``eventlet.wsgi``, ``spawn_after``, mocks in
tests), extended with the OpenStack libraries' eventlet-only APIs
(``oslo_utils.eventletutils``, futurist's green executor, oslo.service's
``wsgi``/``sslutils``/``fixtures`` and its eventlet backend).

:func:`classify` maps a fully qualified dotted name (aliases already
resolved by the walker) to its pattern by the longest matching prefix.
"""

from __future__ import annotations

import dataclasses

#: flake8 code prefix (checked against hacking's H, nova's N, Octavia's O
#: and the common flake8 plugins: none uses PGE).
CODE_PREFIX = "PGE"


@dataclasses.dataclass(frozen=True)
class Pattern:
    """One kind of eventlet use.

    :ivar id: stable identifier (JSON reports, baselines).
    :ivar code: flake8 code, e.g. ``PGE103``.
    :ivar title: what the pattern is, in a few words.
    :ivar recipe: what replaces it in native mode.
    """

    id: str
    code: str
    title: str
    recipe: str


_TABLE = (
    Pattern(
        "import",
        "PGE101",
        "eventlet import",
        "drop the import once the module's other uses are gone; import "
        "eventlet lazily, only in eventlet mode, if both modes must work",
    ),
    Pattern(
        "monkey-patch",
        "PGE102",
        "monkey patching (eventlet.monkey_patch, eventlet.patcher)",
        "remove it; let patchguard.bootstrap decide the mode from the "
        "environment (PATCHGUARD_MODE) at the very first import",
    ),
    Pattern(
        "spawn",
        "PGE103",
        "greenthreads (spawn, spawn_n, spawn_after, GreenThread, kill)",
        "threading.Thread(target=...).start() or an executor's submit(); "
        "spawn_after -> threading.Timer or futurist's submit_after",
    ),
    Pattern(
        "green-pool",
        "PGE104",
        "GreenPool / GreenPile",
        "concurrent.futures.ThreadPoolExecutor, or futurist."
        "DynamicThreadPoolExecutor for a pool that must grow and shrink",
    ),
    Pattern(
        "timeout",
        "PGE105",
        "eventlet.Timeout / with_timeout",
        "pass timeouts to the blocking call (socket, join(timeout), "
        "future.result(timeout)); signal.alarm in the main thread only",
    ),
    Pattern(
        "sleep",
        "PGE106",
        "eventlet.sleep / greenthread.sleep",
        "time.sleep; a sleep(0) that only yields to other greenthreads "
        "is not needed with native threads",
    ),
    Pattern(
        "yield-sleep",
        "PGE107",
        "time.sleep(0) used as a cooperative yield",
        "delete it in native mode (threads are preempted), or call a "
        "helper that yields only in eventlet mode",
    ),
    Pattern(
        "wsgi",
        "PGE108",
        "eventlet.wsgi / eventlet.websocket server",
        "serve the WSGI app with a real server (uWSGI, mod_wsgi, "
        "gunicorn sync/gthread workers, cheroot)",
    ),
    Pattern(
        "green-modules",
        "PGE109",
        "eventlet.green.* modules",
        "import the standard library module itself (socket, threading, "
        "subprocess, ssl...)",
    ),
    Pattern(
        "tpool",
        "PGE110",
        "eventlet.tpool",
        "call the function directly (it already runs in a native "
        "thread) or submit it to a ThreadPoolExecutor",
    ),
    Pattern(
        "green-sync",
        "PGE111",
        "eventlet semaphore / event / queue / lock",
        "threading.Semaphore/BoundedSemaphore/Event/Lock, queue.Queue",
    ),
    Pattern(
        "backdoor",
        "PGE112",
        "eventlet backdoor (eventlet.backdoor, oslo_service "
        "eventlet_backdoor)",
        "remove it; use py-spy/pystack or faulthandler for live stacks",
    ),
    Pattern(
        "eventletutils",
        "PGE113",
        "oslo_utils.eventletutils",
        "threading.Event and a mode flag of your own; eventletutils is "
        "deprecated with no replacement API",
    ),
    Pattern(
        "green-executor",
        "PGE114",
        "futurist GreenThreadPoolExecutor / GreenFuture",
        "futurist.ThreadPoolExecutor or DynamicThreadPoolExecutor",
    ),
    Pattern(
        "oslo-service-eventlet",
        "PGE115",
        "eventlet-only oslo.service APIs (wsgi, sslutils, fixtures, "
        "BackendType.EVENTLET)",
        "init_backend(BackendType.THREADING); serve WSGI with a real "
        "server; these modules are deprecated for removal in 2026.2",
    ),
    Pattern(
        "mock-eventlet",
        "PGE116",
        "eventlet object mocked in tests (mock.patch('eventlet...'))",
        "mock the native replacement (threading, time.sleep, the "
        "executor) the code under test now calls",
    ),
)

#: id -> pattern, in table order.
PATTERNS: dict[str, Pattern] = {p.id: p for p in _TABLE}
#: flake8 code -> pattern.
BY_CODE: dict[str, Pattern] = {p.code: p for p in _TABLE}

# Dotted-name prefix -> pattern id.  The longest matching prefix wins, so
# ``eventlet.greenthread.sleep`` is a sleep and ``eventlet.greenthread``
# alone is a plain import.
_PREFIXES: dict[str, str] = {
    "eventlet": "import",
    "eventlet.monkey_patch": "monkey-patch",
    "eventlet.patcher": "monkey-patch",
    "eventlet.import_patched": "monkey-patch",
    "eventlet.spawn": "spawn",
    "eventlet.spawn_n": "spawn",
    "eventlet.spawn_after": "spawn",
    "eventlet.spawn_after_local": "spawn",
    "eventlet.kill": "spawn",
    "eventlet.GreenThread": "spawn",
    "eventlet.greenthread.spawn": "spawn",
    "eventlet.greenthread.spawn_n": "spawn",
    "eventlet.greenthread.spawn_after": "spawn",
    "eventlet.greenthread.spawn_after_local": "spawn",
    "eventlet.greenthread.kill": "spawn",
    "eventlet.greenthread.GreenThread": "spawn",
    "eventlet.GreenPool": "green-pool",
    "eventlet.GreenPile": "green-pool",
    "eventlet.greenpool": "green-pool",
    "eventlet.Timeout": "timeout",
    "eventlet.timeout": "timeout",
    "eventlet.with_timeout": "timeout",
    "eventlet.sleep": "sleep",
    "eventlet.greenthread.sleep": "sleep",
    "eventlet.wsgi": "wsgi",
    "eventlet.websocket": "wsgi",
    "eventlet.green": "green-modules",
    "eventlet.tpool": "tpool",
    "eventlet.semaphore": "green-sync",
    "eventlet.Semaphore": "green-sync",
    "eventlet.BoundedSemaphore": "green-sync",
    "eventlet.event": "green-sync",
    "eventlet.Event": "green-sync",
    "eventlet.queue": "green-sync",
    "eventlet.Queue": "green-sync",
    "eventlet.LightQueue": "green-sync",
    "eventlet.lock": "green-sync",
    "eventlet.backdoor": "backdoor",
    "oslo_service.eventlet_backdoor": "backdoor",
    "oslo_utils.eventletutils": "eventletutils",
    "futurist.GreenThreadPoolExecutor": "green-executor",
    "futurist.GreenFuture": "green-executor",
    "futurist.GreenDelayedExecutorMixin": "green-executor",
    "futurist._futures.GreenThreadPoolExecutor": "green-executor",
    "futurist._futures.GreenFuture": "green-executor",
    "oslo_service.wsgi": "oslo-service-eventlet",
    "oslo_service.sslutils": "oslo-service-eventlet",
    "oslo_service.fixtures": "oslo-service-eventlet",
    "oslo_service.backend.BackendType.EVENTLET": "oslo-service-eventlet",
    "oslo_service.backend._eventlet": "oslo-service-eventlet",
}

#: Top-level packages whose names the walker must track (everything in
#: :data:`_PREFIXES` lives under one of them, plus the mock and time
#: modules it needs for the call-based patterns).
ROOTS = frozenset(
    {name.split(".", 1)[0] for name in _PREFIXES}
    | {"time", "mock", "unittest", "fixtures"}
)

#: Callables whose string targets name what a test mocks.
MOCKERS = frozenset(
    {
        "mock.patch",
        "mock.patch.object",
        "mock.patch.multiple",
        "mock.patch.dict",
        "unittest.mock.patch",
        "unittest.mock.patch.object",
        "unittest.mock.patch.multiple",
        "unittest.mock.patch.dict",
        "fixtures.MockPatch",
        "fixtures.MockPatchObject",
        "fixtures.MonkeyPatch",
    }
)
#: Mock targets (strings) that count as eventlet objects.
MOCKED_PREFIXES = ("eventlet", "oslo_utils.eventletutils")
#: Calls that are a yield when given a literal zero.
SLEEPS = frozenset({"time.sleep"})


def classify(qualname: str, imported: bool = False) -> Pattern | None:
    """Return the pattern of the dotted name ``qualname``, if any.

    :param qualname: a fully qualified name, e.g. ``eventlet.green.socket``.
    :param imported: whether the name appears in an import statement; a
        bare ``eventlet`` (or ``eventlet.greenthread``) counts as a use
        only there, not at each attribute access that led nowhere.
    :returns: the pattern, or ``None`` when the name is not a use.
    """
    name = qualname
    while True:
        found = _PREFIXES.get(name)
        if found is not None:
            if found == "import" and not imported:
                return None
            return PATTERNS[found]
        if "." not in name:
            return None
        name = name.rsplit(".", 1)[0]


def is_mocked_target(target: str) -> bool:
    """Return whether a mock target string names an eventlet object.

    :param target: the dotted string given to ``mock.patch``.
    """
    return any(
        target == p or target.startswith(p + ".") for p in MOCKED_PREFIXES
    )
