"""The stdlib ``Popen`` internals the backends override or call.

Typing only: at run time :data:`PopenBase` is ``object``.  These are
private stdlib attributes, identical on Python 3.10-3.13; naming them in
one place shows what the backends depend on.
"""

from __future__ import annotations

import subprocess

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    class PopenBase(subprocess.Popen[Any]):
        """``subprocess.Popen`` plus the private members used here."""

        text_mode: bool
        _communication_started: bool
        _fileobj2output: dict[Any, list[bytes]]
        _input: Any
        _input_offset: int
        _sigint_wait_secs: float

        def _wait(self, timeout: float | None) -> int: ...
        def _save_input(self, input: Any) -> None: ...
        def _remaining_time(self, endtime: float | None) -> float | None: ...
        def _communicate(
            self, input: Any, endtime: float | None, orig_timeout: Any
        ) -> tuple[Any, Any]: ...
        def _check_timeout(
            self,
            endtime: float | None,
            orig_timeout: float | None,
            stdout_seq: Any,
            stderr_seq: Any,
            skip_check_and_raise: bool = False,
        ) -> None: ...
        def _pg_timeout_expired(self, timeout: Any) -> Exception: ...

else:
    PopenBase = object
