"""The one startup line, on logger ``patchguard``.

``import logging`` costs more than the whole native bootstrap budget, so
when the process has not imported logging yet the line waits for it: a
post-import hook logs it as soon as anything imports logging.
"""

from __future__ import annotations

from patchguard._hooks import importhook as _importhook

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType

    from patchguard._state import PatchState


def line(current: PatchState) -> str:
    """Return the startup line for ``current`` (without logger prefix).

    :param current: the recorded state.
    :returns: e.g. ``patchguard: mode=eventlet patched=os,...
        decided_by=default``.
    """
    patched = ",".join(sorted(current.patched)) or "none"
    text = (
        f"patchguard: mode={current.mode} patched={patched} "
        f"decided_by={current.decided_by}"
    )
    if current.mode == "unset":
        # The project may have decided for itself (nova's monkey_patch.py
        # through oslo.service): say so rather than "unset" alone.
        import sys

        hook = sys.modules.get("patchguard._hooks.oslo_backend")
        project = hook.project_decision() if hook is not None else None
        if project is not None:
            text += f" ({project['text']})"
    return text


def decision(current: PatchState) -> None:
    """Log the decision once logging is (or becomes) available.

    :param current: the recorded state.
    """

    def log(logging: ModuleType) -> None:
        logging.getLogger("patchguard").info(
            "%s (%s)", line(current), current.reason
        )

    _importhook.when_imported("logging", log)
