"""Give :mod:`logging` locks that native threads and greenthreads share.

Patching makes ``threading.RLock`` green, and eventlet converts the RLocks
logging already made (its module lock, the locks of existing handlers).
A green lock belongs to the hub's OS thread: a native thread that logs
while a greenthread holds a handler lock (an AMQP heartbeat thread, an
``eventlet.tpool`` worker) gets ``greenlet.error: Cannot switch to a
different thread`` or hangs.  oslo.log fixes this for its own users with
a pipe mutex swapped into ``logging.Handler.createLock``; this module does
the same for every eventlet-mode process patchguard bootstraps, with
:class:`patchguard.threads.SharedRLock`, and covers all three places a
logging lock lives: new handlers (``Handler.createLock``), handlers that
already exist, and logging's module lock (``logging._lock``).

:func:`install` runs in the bootstrap right after patching.  If logging is
not imported yet, it waits for the import (a post-import hook), so the
bootstrap pays nothing for it.
"""

from __future__ import annotations

from patchguard._hooks import importhook as _importhook

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType

#: set on the replacement ``createLock``, so installing twice is a no-op.
_MARK = "_patchguard_shared_lock"


def install() -> None:
    """Make logging's locks shared, now or when logging is imported."""
    _importhook.when_imported("logging", _install)


def _install(logging: ModuleType) -> None:
    handler_cls = logging.Handler
    if getattr(handler_cls.createLock, _MARK, False):
        return
    from patchguard.threads import SharedRLock

    register = getattr(logging, "_register_at_fork_reinit_lock", None)

    def createLock(self: object) -> None:
        self.lock = SharedRLock()  # type: ignore[attr-defined]
        if register is not None:
            # Same as the stdlib: a forked child resets the lock.
            register(self)

    setattr(createLock, _MARK, True)
    createLock.__doc__ = handler_cls.createLock.__doc__
    handler_cls.createLock = createLock
    # Module functions read the global ``_lock`` at call time
    # (``_acquireLock`` before 3.13, ``with _lock`` after), so rebinding
    # it is enough.
    if getattr(logging, "_lock", None) is not None:
        setattr(logging, "_lock", SharedRLock())  # noqa: B010
    # Handlers made before (eventlet turned their locks into green RLocks):
    # every handler registers itself in ``_handlerList`` (weak refs).
    for ref in list(getattr(logging, "_handlerList", ())):
        handler = ref()
        if handler is None:
            continue
        if getattr(handler, "lock", None) is not None and not isinstance(
            handler.lock, SharedRLock
        ):
            handler.lock = SharedRLock()
