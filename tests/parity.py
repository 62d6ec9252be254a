"""Generated inputs for the parity tests, and the one runner they share.

Issue 11 §2: the same argument either behaves as the stdlib counterpart
or is refused with the same exception type.  Each case is run by
``tests/isolated/parity.py`` twice: with the stdlib in a native process
(the reference) and with patchguard in the place under test.
"""

from __future__ import annotations

import json
import math
import pickle
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from tests.helpers import run_isolated

#: place -> (PATCHGUARD_MODE, where the calls run).
PLACES = {
    "native": ("native", "hub"),
    "eventlet": ("eventlet", "hub"),
    "eventlet-thread": ("eventlet", "thread"),
}
#: The kinds the issue lists, always tried.
SPECIAL = [
    0,
    0.0,
    1e-9,
    -1,
    -5,
    -0.5,
    -1e300,
    math.nan,
    math.inf,
    -math.inf,
    1e9,
    1e10,
    1e300,
    2**70,
    True,
    False,
    "5",
    "",
    b"1",
    None,
    Decimal("1"),
]
#: The longest timeout the stdlib's locks accept, in seconds.
TIMEOUT_MAX = 9223372036.0


def numbers(low: float, high: float) -> st.SearchStrategy[Any]:
    """Numbers of every kind outside ``(low, high)``: such a timeout
    expires at once or never within a short test."""
    return st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(),
        st.fractions(),
    ).filter(lambda x: x != x or not low < x < high)


def timeouts(low: float, high: float) -> st.SearchStrategy[Any]:
    """The special values, other numbers outside ``(low, high)``, other
    types."""
    return st.one_of(
        st.sampled_from(SPECIAL).filter(
            lambda x: (
                isinstance(x, (str, bytes, Decimal))
                or x is None
                or x != x
                or not low < x < high
            )
        ),
        numbers(low, high),
        st.text(max_size=3),
        st.decimals(allow_nan=False),
    )


#: subprocess timeouts: the child runs 0.05 s, so anything in (1 ms, 2 s)
#: could go either way on a loaded machine.
SUBPROC_TIMEOUTS = timeouts(1e-3, 2)
#: exit-code specs for execute() and processutils.execute().
EXIT_CODES = st.one_of(
    st.sampled_from(
        [True, False, None, 0, 3, [0], [3], (0, 3), [], "0", "3", 3.0]
    ),
    st.integers(-2, 300),
    st.lists(st.integers(0, 5), max_size=3),
    st.frozensets(st.integers(0, 5), max_size=3),
    st.lists(st.floats(0, 5), max_size=2),
    st.lists(st.text(max_size=1), max_size=2),
    st.binary(max_size=2),
    st.text(max_size=2),
    st.floats(),
)


def encode(cases: list[tuple[str, Any]]) -> str:
    """Cases as the isolated script reads them (pickled arguments)."""
    return json.dumps([[kind, pickle.dumps(arg).hex()] for kind, arg in cases])


def outcomes(cases: list[tuple[str, Any]], side: str, place: str) -> Any:
    """Run the cases on one side in one place; return its facts."""
    mode, where = PLACES[place]
    result = run_isolated(
        "parity.py",
        side,
        where,
        env={"PATCHGUARD_MODE": mode},
        stdin=encode(cases),
        timeout=150,
    )
    assert result.returncode == 0, result.stderr
    return result.json()


def mismatches(
    cases: list[tuple[str, Any]], expected: list[str], place: str
) -> list[tuple[tuple[str, Any], str, str]]:
    """Run patchguard's side in ``place``; return the cases whose outcome
    differs from ``expected`` (with both outcomes)."""
    out = outcomes(cases, "ours", place)
    assert out["hub_made"] is False  # a native thread never made a hub
    return [
        (case, want, got)
        for case, want, got in zip(
            cases, expected, out["outcomes"], strict=True
        )
        if want != got
    ]


def subproc_expected(kind: str, value: Any, stdlib: str) -> str:
    """The stdlib's outcome, or the documented deviation from it.

    * With pipes the stdlib raises ``OverflowError`` from its own
      ``poll()`` for ``inf`` and timeouts over ~24.8 days, after spawning
      (the child is left running): patchguard waits without limit, as
      the stdlib does without pipes.
    * NaN is refused with ``ValueError`` everywhere (the stdlib refuses
      it with pipes, and waits without limit without them).
    """
    if isinstance(value, float) and math.isnan(value):
        return "ValueError"
    if stdlib == "OverflowError" and _positive(value):
        return "ok"
    return stdlib


def _positive(value: Any) -> bool:
    try:
        return bool(value > 0)
    except TypeError:
        return False
