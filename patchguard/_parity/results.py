"""Test outcomes per mode: read them, compare them, print the table.

Both dual-mode runners (``pytest --patchguard-modes`` and ``patchguard
parity``) end here.  Outcomes come from JUnit XML (pytest's
``--junitxml``) or a subunit v2 stream (``stestr run --subunit``, read
with python-subunit's own parser and testtools' ``StreamToDict``, the
pair stestr itself uses), normalised to ``passed``, ``failed``,
``error`` and ``skipped``.  A test *differs* when it passed in one mode
and failed or errored in another; a test that ran in one mode only
(``-x`` stopped the other run early, a mode-only marker skipped it)
never differs.
"""

from __future__ import annotations

import dataclasses
import fnmatch

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import IO, Any

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
_BAD = frozenset({FAILED, ERROR})
#: JUnit ``<property>`` the pytest plugin writes for tests marked
#: ``patchguard_mode_specific``.
MODE_SPECIFIC = "patchguard_mode_specific"
#: subunit/testtools status -> outcome ("exists"/"inprogress" are not
#: results and are dropped).
_SUBUNIT = {
    "success": PASSED,
    "xfail": PASSED,
    "fail": FAILED,
    "uxsuccess": FAILED,
    "skip": SKIPPED,
}


@dataclasses.dataclass
class Outcomes:
    """One run's results.

    :ivar by_test: test id -> outcome.
    :ivar mode_specific: ids of tests allowed to differ.
    """

    by_test: dict[str, str] = dataclasses.field(default_factory=dict)
    mode_specific: set[str] = dataclasses.field(default_factory=set)


def read_junit(path: str) -> Outcomes:
    """Read a JUnit XML file (pytest's ``--junitxml`` or any xunit).

    :param path: the file.
    :returns: the outcomes, ids ``classname::name``.
    :raises ValueError: when the file is not JUnit XML.
    """
    # Imported here: the pytest plugin imports this module in every run.
    import xml.etree.ElementTree as ET  # noqa: S405 - our runner's output

    try:
        root = ET.parse(path).getroot()  # noqa: S314 - written by our child
    except ET.ParseError as exc:
        raise ValueError(f"{path}: not JUnit XML ({exc})") from exc
    found = Outcomes()
    for case in root.iter("testcase"):
        classname = case.get("classname", "")
        name = case.get("name", "")
        test = f"{classname}::{name}" if classname else name
        outcome = PASSED
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = FAILED if child.tag == "failure" else ERROR
            elif child.tag == "skipped" and outcome == PASSED:
                outcome = SKIPPED
            elif child.tag == "properties":
                for prop in child.iter("property"):
                    if prop.get("name") == MODE_SPECIFIC:
                        found.mode_specific.add(test)
        # pytest writes a second <testcase> for a teardown error.
        previous = found.by_test.get(test)
        if previous is None or previous == PASSED or outcome in _BAD:
            found.by_test[test] = outcome
    return found


def read_subunit(stream: IO[bytes]) -> Outcomes:
    """Read a subunit v2 stream (``stestr run --subunit``).

    :param stream: a binary file object; non-subunit bytes are ignored.
    :returns: the outcomes, ids as subunit gives them.
    :raises ImportError: when python-subunit is not installed (extra
        ``parity``).
    """
    import subunit
    import testtools

    found = Outcomes()

    def on_test(test: Mapping[str, Any]) -> None:
        outcome = _SUBUNIT.get(str(test["status"]))
        if outcome is not None and test["id"]:
            found.by_test[str(test["id"])] = outcome

    result = testtools.StreamToDict(on_test)
    result.startTestRun()
    try:
        subunit.ByteStreamToStreamResult(
            stream, non_subunit_name="stdout"
        ).run(result)
    finally:
        result.stopTestRun()
    return found


@dataclasses.dataclass(frozen=True)
class Difference:
    """A test whose outcome differs between modes.

    :ivar test: its id.
    :ivar outcomes: mode -> outcome.
    :ivar allowed: marked mode-specific, so it does not fail the run.
    """

    test: str
    outcomes: dict[str, str]
    allowed: bool


def compare(
    runs: Mapping[str, Outcomes], allow: Sequence[str] = ()
) -> list[Difference]:
    """Return the tests that passed in one mode and failed in another.

    :param runs: mode -> outcomes, in run order.
    :param allow: globs of test ids allowed to differ (besides the ones
        the runs mark mode-specific).
    :returns: the differences, sorted by test id.
    """
    marked: set[str] = set()
    for outcomes in runs.values():
        marked |= outcomes.mode_specific
    tests: set[str] = set()
    for outcomes in runs.values():
        tests |= outcomes.by_test.keys()
    found = []
    for test in sorted(tests):
        seen = {
            m: o.by_test[test] for m, o in runs.items() if test in o.by_test
        }
        values = set(seen.values())
        if PASSED in values and values & _BAD:
            allowed = test in marked or any(
                fnmatch.fnmatchcase(test, g) for g in allow
            )
            found.append(Difference(test, seen, allowed))
    return found


def table(modes: Iterable[str], differences: Sequence[Difference]) -> str:
    """Return the text table of differences (empty string when none).

    :param modes: the column order.
    :param differences: what :func:`compare` returned.
    """
    if not differences:
        return ""
    modes = list(modes)
    width = max(len("test"), *(len(d.test) for d in differences))
    blocking = sum(not d.allowed for d in differences)
    lines = [
        f"patchguard: {len(differences)} test(s) differ between modes "
        f"({blocking} not marked patchguard_mode_specific):",
        "  "
        + "test".ljust(width)
        + "".join(f"  {m:<9}" for m in modes)
        + "  note",
    ]
    for diff in differences:
        cells = "".join(
            f"  {diff.outcomes.get(m, 'not run'):<9}" for m in modes
        )
        note = "mode-specific (allowed)" if diff.allowed else "DIFFERS"
        lines.append(f"  {diff.test.ljust(width)}{cells}  {note}")
    return "\n".join(lines) + "\n"


def verdict(
    rcs: Sequence[int],
    runs: Mapping[str, Outcomes],
    differences: Sequence[Difference],
) -> int:
    """Return the exit status of a dual-mode run.

    :param rcs: each run's exit status.
    :param runs: mode -> outcomes.
    :param differences: what :func:`compare` returned.
    :returns: 1 when a test not marked mode-specific differs; else a
        run's status other than 0 and 1 (pytest's 2 for collection
        errors, 4 for usage errors...); else 1 when a test failed that is
        not an allowed difference (failing in every mode still fails),
        or a run failed without reporting a single test; else 0.
    """
    if any(not d.allowed for d in differences):
        return 1
    other = [rc for rc in rcs if rc not in (0, 1)]
    if other:
        return other[0]
    allowed = {d.test for d in differences}
    for outcomes in runs.values():
        for test, outcome in outcomes.by_test.items():
            if outcome in _BAD and test not in allowed:
                return 1
    if any(
        rc and not o.by_test for rc, o in zip(rcs, runs.values(), strict=True)
    ):
        return 1
    return 0
