"""Render a :class:`~patchguard.PatchState` for people: the report table."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from patchguard._state import PatchState
    from patchguard.warn import Finding


def render(current: PatchState, extra: Iterable[Finding] = ()) -> str:
    """Return the human report: decision, modules, findings.

    :param current: the state to show.
    :param extra: findings to list besides the state's own.
    :returns: the text, ending with a newline.
    """
    lines = [
        f"mode        {current.mode}",
        f"decided_by  {current.decided_by or '-'}",
        f"reason      {current.reason}",
        f"patched     {','.join(sorted(current.patched)) or '-'}",
        f"requested   {','.join(sorted(current.requested)) or '-'}",
        f"wsgi_host   {current.wsgi_host or '-'}",
        f"tool        {current.tool or '-'}",
        f"debugger    {current.debugger or '-'}",
        f"decided at  {current.site or '-'} (thread {current.thread or '-'})",
        f"dns         {current.dns}",
        f"hub         {current.hub or '-'}",
    ]
    for foreign in current.foreign_threads:
        lines.append(f"information {foreign}")
    lines += [
        "modules",
    ]
    for name, how in sorted(current.modules.items()):
        lines.append(f"  {name:<11} {how}")
    oslo = current.oslo_backend
    if oslo is not None:
        lines.append(
            f"oslo        backend {oslo['backend'] or 'unselected'}"
            f" ({oslo['selected_by'] or '-'}), oslo.messaging executor "
            f"{oslo['executor'] or '-'}"
        )
    chain = current.eventlet_imported_by
    if chain is not None:
        lines.append(f"eventlet    imported by {chain}")
    findings = list(current.findings) + list(extra)
    lines.append(f"findings    {len(findings)}")
    for finding in findings:
        where = f" [{finding.location}]" if finding.location else ""
        lines.append(f"  {finding.category.__name__}{where}")
        lines.append(f"    {finding.message}")
    return "\n".join(lines) + "\n"
