"""Render a state for people: the report table of ``report`` and ``check``.

It works on :meth:`PatchState.to_dict() <patchguard.PatchState.to_dict>`
output, so ``check`` can render the state its child process sent back.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def render(
    current: dict[str, Any] | None,
    findings: list[dict[str, Any]] | None = None,
) -> str:
    """Return the human report: decision, modules, findings.

    :param current: the state as ``PatchState.to_dict()`` gives it, or
        ``None`` when it is unknown (``check``'s child died).
    :param findings: the findings to list (default: the state's own).
    :returns: the text, ending with a newline.
    """
    if findings is None:
        findings = list(current["findings"]) if current else []
    if current is None:
        lines = ["state       unknown"]
    else:
        lines = [
            f"mode        {current['mode']}",
            f"decided_by  {current['decided_by'] or '-'}",
            f"reason      {current['reason']}",
            f"patched     {','.join(current['patched']) or '-'}",
            f"requested   {','.join(current['requested']) or '-'}",
            f"wsgi_host   {current['wsgi_host'] or '-'}",
            f"tool        {current['tool'] or '-'}",
            f"debugger    {current['debugger'] or '-'}",
            f"decided at  {current['site'] or '-'} "
            f"(thread {current['thread'] or '-'})",
            f"dns         {current.get('dns')}",
            f"hub         {current.get('hub') or '-'}",
        ]
        for foreign in current.get("foreign_threads") or ():
            lines.append(f"information {_describe(foreign)}")
        lines.append("modules")
        for name, how in sorted(current["modules"].items()):
            lines.append(f"  {name:<11} {how}")
        oslo = current.get("oslo_backend")
        if oslo is not None:
            lines.append(
                f"oslo        backend {oslo['backend'] or 'unselected'}"
                f" ({oslo['selected_by'] or '-'}), oslo.messaging executor "
                f"{oslo['executor'] or '-'}"
            )
        chain = current.get("eventlet_imported_by")
        if chain is not None:
            lines.append(f"eventlet    imported by {chain}")
    lines.append(f"findings    {len(findings)}")
    for finding in findings:
        where = f" [{finding['location']}]" if finding["location"] else ""
        lines.append(f"  {finding['category']}{where}")
        lines.append(f"    {finding['message']}")
    return "\n".join(lines) + "\n"


def _describe(record: Any) -> str:
    # A record as PatchState.to_dict() gives it: its own text when it is
    # one, else its fields.
    if isinstance(record, dict):
        return ", ".join(f"{k}={v}" for k, v in record.items())
    return str(record)
