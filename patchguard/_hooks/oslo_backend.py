"""One decision across the stack: oslo.service's backend follows the mode.

oslo.service (4.x) chooses a concurrency backend once per process
(``oslo_service.backend``: ``init_backend``, ``get_backend``,
``BackendType``).  Nothing ties that choice to patching: a bare
``import oslo_messaging`` calls ``get_backend()`` at import time, which
silently picks ``EVENTLET`` (``DEFAULT_BACKEND_TYPE``), so a native
process runs eventlet looping calls that never tick.

From the first ``import patchguard`` a post-import hook waits for
``oslo_service.backend`` (nothing is imported in a process that never
imports it).  When it loads, its ``init_backend``/``get_backend`` are
wrapped to remember the first selection and where it was made
(``file:line``).  Once the mode is decided, :func:`agree` makes the two
agree (native ↔ ``THREADING``, eventlet ↔ ``EVENTLET``) or, when something
already selected the other backend, refuses with a
:class:`~patchguard.PatchOrderError` naming that place, before anything
is patched.  In native mode the THREADING backend is selected with
eventlet imports refused, so oslo's and futurist's probing
``try: import eventlet`` fall back cleanly instead of loading it.
"""

from __future__ import annotations

import os
import sys

from patchguard import _where
from patchguard._hooks import importhook as _importhook

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

MODULE = "oslo_service.backend"
#: patchguard mode → oslo.service backend type value.
WANTED = {"native": "threading", "eventlet": "eventlet"}
_SKIP = (os.sep + os.path.join("oslo_service", "backend") + os.sep,)
_LIBS = tuple(
    os.sep + name + os.sep for name in ("oslo_service", "oslo_messaging")
)


class Selection:
    """The first backend selection seen.

    :ivar backend: ``"threading"`` or ``"eventlet"``.
    :ivar how: ``"init_backend"``, ``"get_backend() default"`` or
        ``"patchguard"``.
    :ivar site: ``file:line`` of the call (outside oslo.service's backend
        package).
    :ivar user: ``file:line`` of the user's code behind it.
    """

    __slots__ = ("backend", "how", "site", "user")

    def __init__(self, backend: str, how: str, site: str, user: str) -> None:
        self.backend = backend
        self.how = how
        self.site = site
        self.user = user

    def describe(self) -> str:
        """Return ``get_backend() default at a.py:1 (from b.py:2)``."""
        via = f" (from {self.user})" if self.user != self.site else ""
        return f"{self.how} at {self.site}{via}"

    def to_dict(self) -> dict[str, str]:
        """Return a JSON-serialisable dict."""
        return {
            "backend": self.backend,
            "how": self.how,
            "site": self.site,
            "user": self.user,
        }


#: the first selection (private; tests reset it).
selection: Selection | None = None
_via_default = False
_own_call = False


def _value(type_: object) -> str:
    return str(getattr(type_, "value", type_))


def _record(module: ModuleType, how: str) -> None:
    global selection
    if selection is not None:
        return
    from patchguard._hooks.eventlet_import import _short

    backend = _value(module.get_backend_type())
    site = _short(_where.user_site(skip_also=_SKIP))
    user = _short(_where.user_site(skip_also=_LIBS))
    selection = Selection(backend, how, site, user)


def _wrap(module: ModuleType) -> None:
    init_backend = module.init_backend
    get_backend = module.get_backend
    if getattr(init_backend, "_patchguard_original", None) is not None:
        return

    def init(type_: Any) -> None:
        from patchguard import _state

        mode = _state.state().mode
        if (
            not _own_call
            and mode in WANTED
            and _value(type_) != WANTED[mode]
            and module.get_backend_type() is None
        ):
            from patchguard._errors import PatchOrderError

            raise PatchOrderError(
                f"init_backend({_value(type_).upper()}) at "
                f"{_where.user_site(skip_also=_SKIP)} in a process "
                f"patchguard runs in {mode} mode (decided_by="
                f"{_state.state().decided_by}): oslo.service's backend "
                f"must be {WANTED[mode].upper()}. Fix: select "
                f"{WANTED[mode].upper()}, or set PATCHGUARD_MODE."
            )
        fresh = module.get_backend_type() is None
        init_backend(type_)
        if fresh:
            how = (
                f"patchguard ({_state.state().mode} mode, on import)"
                if _own_call
                else f"init_backend({_value(type_).upper()})"
            )
            _record(module, "get_backend() default" if _via_default else how)

    def get() -> Any:
        global _via_default
        outer = not _via_default
        _via_default = True
        try:
            return get_backend()
        finally:
            if outer:
                _via_default = False

    init._patchguard_original = init_backend  # type: ignore[attr-defined]
    get._patchguard_original = get_backend  # type: ignore[attr-defined]
    init.__doc__, get.__doc__ = init_backend.__doc__, get_backend.__doc__
    setattr(module, "init_backend", init)  # noqa: B010 - typed module
    setattr(module, "get_backend", get)  # noqa: B010


def _on_import(module: ModuleType) -> None:
    if not (
        hasattr(module, "init_backend")
        and hasattr(module, "get_backend_type")
        and hasattr(module, "BackendType")
    ):
        return  # an oslo.service without the backend API
    if module.get_backend_type() is not None:
        # Selected before patchguard was imported: the place is unknown.
        global selection
        if selection is None:
            selection = Selection(
                _value(module.get_backend_type()),
                "a selection",
                "<before patchguard was imported>",
                "<before patchguard was imported>",
            )
    _wrap(module)
    from patchguard import _state

    mode = _state.state().mode
    if mode in WANTED:
        # Imported after the decision: select now, so a later
        # get_backend() can no longer default to the other backend.
        agree(mode)
        select(mode)


def watch() -> None:
    """Wait for ``oslo_service.backend`` (imports nothing until then)."""
    _importhook.when_imported(MODULE, _on_import)


def backend() -> str | None:
    """Return the selected backend (``"threading"``/``"eventlet"``), or
    ``None`` (not selected, or oslo.service not imported)."""
    module = sys.modules.get(MODULE)
    if module is None or not hasattr(module, "get_backend_type"):
        return None
    selected = module.get_backend_type()
    return None if selected is None else _value(selected)


def agree(mode: str) -> None:
    """Refuse when oslo.service already runs the other backend.

    Called with the decided mode before anything is patched.

    :param mode: ``"native"`` or ``"eventlet"``.
    :raises PatchOrderError: naming where the other backend was selected.
    """
    selected = backend()
    if selected is None or mode not in WANTED or selected == WANTED[mode]:
        return
    from patchguard._errors import PatchOrderError

    where = selection.describe() if selection else "code patchguard missed"
    raise PatchOrderError(
        f"cannot run {mode}: oslo.service's backend is already "
        f"{selected.upper()}, selected by {where}. A process has one "
        f"concurrency model. Fix: import patchguard.bootstrap (or call "
        f"patchguard.apply()) before anything imports oslo.service or "
        f"oslo.messaging, or call oslo_service.backend.init_backend("
        f"BackendType.{WANTED[mode].upper()}) first."
    )


def select(mode: str) -> None:
    """Select the backend matching ``mode`` if none is selected yet.

    In native mode eventlet imports are refused meanwhile, so probing
    imports (futurist's ``try: import eventlet``) fall back instead of
    loading it.

    :param mode: ``"native"`` or ``"eventlet"``.
    """
    global _own_call
    module = sys.modules.get(MODULE)
    if (
        module is None
        or mode not in WANTED
        or not hasattr(module, "BackendType")
        or module.get_backend_type() is not None
    ):
        return
    from patchguard._hooks import eventlet_import as _eventlet_import

    wanted = getattr(module.BackendType, WANTED[mode].upper())
    _own_call = True
    try:
        if mode == "native":
            with _eventlet_import.refused():
                module.init_backend(wanted)
        else:
            module.init_backend(wanted)
    finally:
        _own_call = False


def executor() -> str | None:
    """Return the executor oslo.messaging would pick in this process now
    (``"threading"``/``"eventlet"``), or ``None`` when it is not
    imported: asked of oslo.messaging itself
    (``_utils.get_executor_with_context``)."""
    utils = sys.modules.get("oslo_messaging._utils")
    pick = getattr(utils, "get_executor_with_context", None)
    if pick is None:
        return None
    return str(pick())


def findings(mode: str) -> list[Any]:
    """Return mismatches between ``mode``, the backend and the executor.

    :param mode: the decided mode (``"unset"`` gives none).
    :returns: :class:`~patchguard.BackendMismatchWarning` findings.
    """
    if mode not in WANTED:
        return []
    from patchguard import warn

    found = []
    selected = backend()
    if selected is not None and selected != WANTED[mode]:
        where = selection.describe() if selection else "unknown code"
        found.append(
            warn.Finding(
                warn.BackendMismatchWarning,
                f"oslo.service's backend is {selected.upper()} (selected "
                f"by {where}) but the process runs {mode}. Fix: decide "
                f"the mode before anything imports oslo.service or "
                f'oslo.messaging (`patchguard.apply(default="native")` '
                f"or `import patchguard.bootstrap` first): the backend "
                f"then follows it.",
                selection.site if selection else None,
            )
        )
    picked = executor()
    if picked is not None and picked != WANTED[mode]:
        found.append(
            warn.Finding(
                warn.BackendMismatchWarning,
                f"oslo.messaging would pick the {picked} executor in a "
                f"process that runs {mode}. Fix: let the mode decide "
                f"(do not pass executor=), and patch (or not) before "
                f"oslo.messaging starts a server.",
            )
        )
    return found


def project_decision() -> dict[str, Any] | None:
    """Describe a decision the project made itself through oslo.service.

    A process that never bootstraps patchguard but selects oslo.service's
    backend (nova's ``monkey_patch.py`` calls ``init_backend``) has decided
    its mode there: ``THREADING`` with nothing patched is native,
    ``EVENTLET`` with the thread module patched is eventlet.

    :returns: ``{"kind": "project", "mode", "site", "text"}``, or
        ``None`` when nothing but a default selection was seen.
    """
    if selection is None or not selection.how.startswith("init_backend"):
        return None
    from patchguard import _state

    patched = _state.patched_options()
    mode = "eventlet" if "thread" in patched else "native"
    return {
        "kind": "project",
        "mode": mode,
        "site": selection.site,
        "text": f"{mode}, decided by {selection.site} (oslo.service "
        f"{selection.backend.upper()})",
    }
