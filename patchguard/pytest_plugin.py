"""pytest plugin: assert how a test suite is patched, and catch leaks.

eventlet hides its own "RLock(s) were not greened" report under pytest and
nothing else says how a suite is patched, so a suite can run green in CI
and native on a laptop without anyone noticing.  This plugin is installed
with patchguard (entry point ``pytest11``, name ``patchguard``; turn it off
with ``-p no:patchguard``) and by default does one thing only: it prints
the process's patch state on one line, under "collected N items"::

    patchguard: mode=native patched=none decided_by=PATCHGUARD_MODE findings=0

It never patches and never imports eventlet unless asked to:

``--patchguard-bootstrap`` (ini ``patchguard_bootstrap = true``; ini
    switches take the values ``PATCHGUARD_STRICT`` takes, and a bad one
    stops the session naming the key)
    apply the bootstrap in ``pytest_load_initial_conftests``, before any
    conftest or test module is imported, for suites whose
    ``tests/__init__.py`` does not ``import patchguard.bootstrap`` itself.
``--patchguard-mode={eventlet,native}``
    set ``PATCHGUARD_MODE`` (the command line wins over the environment)
    and bootstrap as above: run the same suite once per mode.
``--patchguard-modes=eventlet,native``
    run the suite once per mode, each in a fresh interpreter, and print
    the tests whose outcome differs (exit status 1 when one does, unless
    marked ``@pytest.mark.patchguard_mode_specific``); see
    :mod:`patchguard._parity.pytest_modes`.
``--patchguard-expect={eventlet,native,any}``
    (env ``PATCHGUARD_EXPECT``, ini ``patchguard_expect``; command line >
    env > ini > ``any``): once collection has imported every conftest and
    test module, stop the session before any test runs, with exit status 4
    and one line such as ``patchguard: expected eventlet mode, found
    native (decided_by=PATCHGUARD_MODE)``, when the mode differs.
``--patchguard-strict`` (ini ``patchguard_strict = true``)
    stop the session the same way (exit status 4, with the report) when
    the bootstrap found threads already running or module globals still
    holding native objects; and fail, as an error at teardown, every test
    that leaves a thread it started still running: a native thread, or in
    eventlet mode a greenthread the hub will resume.

The ``patch_state`` fixture returns :func:`patchguard.state`; the
``eventlet_only`` and ``native_only`` markers skip a test, with the reason,
in the other mode (a process nobody bootstrapped counts as native unless
something patched it).
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator
from typing import Any

import pytest

from patchguard import _state, warn
from patchguard._decision import log as _log
from patchguard._decision import policy as _policy
from patchguard._detectors import leaks as _leaks
from patchguard._errors import ConfigError, PatchOrderError

TYPE_CHECKING = False
if TYPE_CHECKING:
    pass

#: Environment variable for ``--patchguard-expect``.
EXPECT_VAR = "PATCHGUARD_EXPECT"
EXPECTS = ("eventlet", "native", "any")
MODES = ("eventlet", "native")
#: marker → the mode it needs.
MARKERS = {"eventlet_only": "eventlet", "native_only": "native"}
#: the marker running a test under :func:`patchguard.watchdog.no_stall`.
NO_STALL = "patchguard_no_stall"
#: Seconds a test's threads get to finish after its teardown before they
#: count as leaked (a stopped-but-not-joined thread needs a moment).
LEAK_GRACE = 0.5


class Settings:
    """The plugin's resolved configuration.

    :ivar expect: ``"eventlet"``, ``"native"`` or ``"any"``.
    :ivar mode: the ``--patchguard-mode`` value, or ``None``.
    :ivar bootstrap: whether the plugin applies the bootstrap itself.
    :ivar strict: whether strict checks are on.
    """

    __slots__ = ("expect", "mode", "bootstrap", "strict")

    def __init__(
        self, expect: str, mode: str | None, bootstrap: bool, strict: bool
    ) -> None:
        self.expect = expect
        self.mode = mode
        self.bootstrap = bootstrap
        self.strict = strict


_SETTINGS = pytest.StashKey[Settings]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``--patchguard-*`` options and ini keys."""
    group = parser.getgroup("patchguard", "eventlet patch state (patchguard)")
    group.addoption(
        "--patchguard-expect",
        choices=EXPECTS,
        default=None,
        help="stop (exit status 4) before running any test unless the "
        "process runs in this mode; overrides $PATCHGUARD_EXPECT and ini "
        "patchguard_expect (default: any)",
    )
    group.addoption(
        "--patchguard-bootstrap",
        action="store_true",
        default=False,
        help="apply patchguard's bootstrap before conftests are imported",
    )
    group.addoption(
        "--patchguard-mode",
        choices=MODES,
        default=None,
        help="run the suite in this mode: sets PATCHGUARD_MODE and implies "
        "--patchguard-bootstrap",
    )
    group.addoption(
        "--patchguard-modes",
        default=None,
        metavar="MODES",
        help="run the suite once per mode (e.g. eventlet,native), each in "
        "a fresh interpreter, and report tests whose outcome differs",
    )
    group.addoption(
        "--patchguard-strict",
        action="store_true",
        default=False,
        help="stop on early threads or stale references found at "
        "bootstrap; fail tests that leave threads running",
    )
    parser.addini(
        "patchguard_expect",
        "expected mode: eventlet, native or any (see --patchguard-expect)",
        default="",
    )
    parser.addini(
        "patchguard_bootstrap",
        "apply patchguard's bootstrap before conftests are imported "
        "(true: 1/true/yes/on; false: 0/false/no/off or empty)",
        default="",
    )
    parser.addini(
        "patchguard_strict",
        "strict checks, see --patchguard-strict "
        "(true: 1/true/yes/on; false: 0/false/no/off or empty)",
        default="",
    )


def _expect(config: pytest.Config, given: str | None) -> str:
    if given is not None:
        return given
    for name, value in (
        (EXPECT_VAR, os.environ.get(EXPECT_VAR, "")),
        ("patchguard_expect", str(config.getini("patchguard_expect"))),
    ):
        text = value.strip().lower()
        if text == "":
            continue
        if text not in EXPECTS:
            raise pytest.UsageError(
                f"patchguard: {_where_set(name)}{name}="
                f"{_policy.show(value)} is not valid; accepted values: "
                f"{', '.join(repr(e) for e in EXPECTS)}"
            )
        return text
    return "any"


def _where_set(name: str) -> str:
    return "" if name == EXPECT_VAR else "ini "


def _ini_flag(config: pytest.Config, key: str) -> bool:
    # Validated by patchguard, not by pytest's bool parser, so that a bad
    # value names the ini key and lists what is accepted.
    try:
        return bool(_policy.parse_flag(key, config.getini(key)))
    except ConfigError as exc:
        raise pytest.UsageError(f"patchguard: ini {exc}") from None


def _resolve(config: pytest.Config, options: object) -> Settings:
    mode = getattr(options, "patchguard_mode", None)
    bootstrap = _ini_flag(config, "patchguard_bootstrap")
    strict = _ini_flag(config, "patchguard_strict")
    return Settings(
        expect=_expect(config, getattr(options, "patchguard_expect", None)),
        mode=mode,
        bootstrap=bool(
            mode
            or getattr(options, "patchguard_bootstrap", False)
            or bootstrap
        ),
        strict=bool(getattr(options, "patchguard_strict", False) or strict),
    )


def _bootstrap(config: pytest.Config) -> None:
    from patchguard import _where

    settings = config.stash[_SETTINGS]
    # No frame of the suite's is on the stack here, and pytest's or
    # pluggy's are never the culprit: name the option that asked.
    _where.entry = (
        f"pytest --patchguard-mode={settings.mode}"
        if settings.mode
        else "pytest --patchguard-bootstrap"
    )
    try:
        # Exactly what a suite's ``tests/__init__.py`` would do, so a suite
        # that also imports it gets the same, already recorded, decision.
        import patchguard.bootstrap  # noqa: F401
    except (ConfigError, PatchOrderError) as exc:
        raise pytest.UsageError(f"patchguard: {exc}") from exc
    except warn.PatchGuardWarning as exc:
        # ``filterwarnings = error`` turned a finding into an exception.
        raise pytest.UsageError(
            f"patchguard: {type(exc).__name__} (an error under the warning "
            f"filters): {exc}"
        ) from exc
    finally:
        _where.entry = None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Resolve the settings; set the mode and bootstrap when asked.

    This is the earliest hook that sees the parsed command line and ini
    file, and pytest imports the initial conftests only after it (in its
    own ``trylast`` implementation), so patching here comes before any
    conftest or test module binds a native object.
    """
    settings = _resolve(early_config, early_config.known_args_namespace)
    early_config.stash[_SETTINGS] = settings
    if _modes(early_config.known_args_namespace):
        return  # the children decide their modes; this process runs none
    if settings.mode is not None:
        os.environ[_policy.MODE_VAR] = settings.mode
    if settings.bootstrap:
        _bootstrap(early_config)


def _modes(options: object) -> str | None:
    value = getattr(options, "patchguard_modes", None)
    if value is None:
        return None
    from patchguard import _parity

    return None if _parity.is_child() else str(value)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """With ``--patchguard-modes``, run one child pytest per mode instead."""
    value = _modes(config.option)
    if value is None:
        return None
    from patchguard._parity import pytest_modes

    try:
        return pytest_modes.run(config, value)
    except ConfigError as exc:
        raise pytest.UsageError(f"patchguard: {exc}") from exc


def _settings(config: pytest.Config) -> Settings:
    settings = config.stash.get(_SETTINGS, None)
    if settings is None:
        # pytest_load_initial_conftests did not run (a config made by
        # hand): resolve, but never patch this late.
        settings = _resolve(config, config.option)
        config.stash[_SETTINGS] = settings
    return settings


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers; start the leak watch in strict mode."""
    for name, mode in MARKERS.items():
        config.addinivalue_line(
            "markers",
            f"{name}: run only when the process is in {mode} mode "
            f"(skipped, with the reason, otherwise)",
        )
    config.addinivalue_line(
        "markers",
        f"{NO_STALL}(threshold=0.1): fail the test when the eventlet hub "
        f"stalls for longer than threshold seconds in its body "
        f"(patchguard.watchdog.no_stall)",
    )
    config.addinivalue_line(
        "markers",
        "patchguard_mode_specific: the outcome may differ between modes "
        "(--patchguard-modes reports it but does not fail the run)",
    )
    if _settings(config).strict:
        config.pluginmanager.register(LeakWatch(), "patchguard-leakwatch")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, None]:
    """Run a ``patchguard_no_stall`` test's body under ``no_stall``.

    The test fails with :class:`patchguard.watchdog.StallError`, whose
    message is the stall report.
    """
    mark = item.get_closest_marker(NO_STALL)
    if mark is None:
        yield
        return
    from patchguard import watchdog

    threshold = mark.kwargs.get(
        "threshold", mark.args[0] if mark.args else 0.1
    )
    scope = watchdog.no_stall(threshold)
    scope.__enter__()
    outcome = yield
    try:
        scope.__exit__(None, None, None)
    except watchdog.StallError as exc:
        if outcome.excinfo is None:
            outcome.force_exception(exc)


def header(current: _state.PatchState) -> str:
    """Return the one-line summary of ``current`` shown by the plugin.

    :param current: the state to show.
    :returns: mode, patched modules, decided_by and findings in one line.
    """
    names = sorted({f.category.__name__ for f in current.findings})
    findings = f"findings={len(current.findings)}"
    if names:
        findings += f" ({','.join(names)})"
    return f"{_log.line(current)} {findings}"


def _settled() -> _state.PatchState:
    from patchguard._detectors import audit as _audit

    current = _state.state()
    _audit.settle(current)
    return current


def pytest_report_collectionfinish() -> list[str]:
    """Show the state the tests will run in, once every module is imported.

    The session header would be too early: a ``tests/__init__.py`` that
    bootstraps (or calls ``eventlet.monkey_patch()``) is imported during
    collection.
    """
    return [header(_settled())]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip ``eventlet_only``/``native_only`` tests in the other mode.

    Collection is over, so the mode is final; one pass over the items
    costs less than a check in every test's setup.
    """
    from patchguard import _parity

    if _parity.is_child():
        from patchguard._parity import pytest_modes

        for item in items:
            pytest_modes.mark_mode_specific(item)
    effective: tuple[str, str] | None = None
    for item in items:
        for mark in item.iter_markers():
            needed = MARKERS.get(mark.name)
            if needed is None:
                continue
            if effective is None:
                effective = _state.effective_mode(_state.state())
            mode, why = effective
            if mode != needed:
                item.add_marker(
                    pytest.mark.skip(
                        reason=f"{mark.name}: the process runs in {mode} "
                        f"mode ({why})"
                    )
                )


def _early_report(current: _state.PatchState) -> str:
    if current.mode == "unset":
        who = f"the bare eventlet.monkey_patch() at {current.site}"
    else:
        who = f"the bootstrap at {current.site}"
    lines = [
        f"patchguard: strict: {who} found {len(current.findings)} "
        f"finding(s), {len(current.early_threads)} early thread(s) and "
        f"{len(current.stale_refs)} stale reference(s); no test was run."
    ]
    for finding in current.findings:
        lines.append(f"  {finding.category.__name__}: {finding.message}")
    return "\n".join(lines)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Stop before the first test on a mode mismatch or, in strict mode,
    on any finding (exit status 4).

    Collection has imported every conftest and test module (and so any
    ``tests/__init__.py`` bootstrap or bare ``eventlet.monkey_patch()``)
    by now, and no test has run.  It runs after the terminal reporter's
    own implementation, so the header line is already printed.  After
    collection errors pytest stops by itself and their report is the one
    to read: nothing is checked then.  The mode judged is the process's
    actual one (:func:`patchguard._state.effective_mode`): a suite patched
    by its own ``tests/__init__.py`` is in eventlet mode.
    """
    if session.testsfailed:
        return
    settings = _settings(session.config)
    current = _settled()
    mode, why = _state.effective_mode(current)
    if settings.expect != "any" and mode != settings.expect:
        hint = ""
        if current.mode == "unset" and not current.patched:
            hint = (
                "; nothing imported patchguard.bootstrap: import it first "
                "in tests/__init__.py or pass --patchguard-bootstrap"
            )
        raise pytest.UsageError(
            f"patchguard: expected {settings.expect} mode, found "
            f"{mode} ({why}){hint}"
        )
    if settings.strict and (
        current.findings or current.early_threads or current.stale_refs
    ):
        raise pytest.UsageError(_early_report(current))


@pytest.fixture
def patch_state() -> _state.PatchState:
    """The process's :class:`~patchguard.PatchState`."""
    return _state.state()


class LeakWatch:
    """Fail tests that leave threads running (registered in strict mode).

    Threads are counted from the start of the test's call phase, so a
    fixture's threads (a session server started during setup) never
    count, and checked after teardown, so a thread a fixture stops never
    counts either.  The check costs two cheap snapshots per test; only
    when they differ does it wait up to :data:`LEAK_GRACE` seconds for the
    new threads to finish.
    """

    def __init__(self) -> None:
        self._before: _leaks.Snapshot | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self) -> None:
        """Snapshot the threads just before the test body runs."""
        self._before = _leaks.snapshot()

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        """After teardown, fail the test for each thread it left running.

        :raises pytest.fail.Exception: naming each thread and its start
            site (pytest reports it as an error at teardown).
        """
        before, self._before = self._before, None
        if before is None:
            return
        found = _leaks.leaks(before)
        deadline = time.monotonic() + LEAK_GRACE
        while found and time.monotonic() < deadline:
            _leaks.pause()
            found = _leaks.leaks(before)
        if found:
            pytest.fail(
                f"patchguard: {item.nodeid} left {len(found)} thread(s) "
                f"running after teardown: {'; '.join(found)}. Fix: stop and "
                f"join them in the test or in a fixture's teardown.",
                pytrace=False,
            )
