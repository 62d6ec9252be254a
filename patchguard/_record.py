"""The base of every public record patchguard keeps in its state.

Detectors return plain records (an early thread, a stale reference, a
``monkey_patch()`` call, a finding).  Each names its fields in
``__slots__`` and says what it is in :meth:`Record.describe`; this base
derives the JSON form and a readable ``str()``/``repr()`` from those two,
so a record printed in a log or a debugger reads as
``legacy.sleep -> time.sleep``, never ``<... object at 0x...>``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Record:
    """A plain record: fields in ``__slots__``, a one-line description."""

    __slots__: tuple[str, ...] = ()

    def describe(self) -> str:
        """Return what the record is, in one line.

        Subclasses say it in their own words (``legacy.sleep ->
        time.sleep``); this default lists the fields, so a new record is
        never printed as ``<... object at 0x...>``.
        """
        return ", ".join(
            f"{name}={getattr(self, name, None)!r}" for name in self.__slots__
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-serialisable dict.

        :returns: field name → value (plain strings, numbers, lists).
        """
        return {name: getattr(self, name) for name in self.__slots__}

    def __str__(self) -> str:
        return self.describe()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"
