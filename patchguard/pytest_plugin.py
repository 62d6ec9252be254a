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


def _bootstrap() -> None:
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
    if settings.mode is not None:
        os.environ[_policy.MODE_VAR] = settings.mode
    if settings.bootstrap:
        _bootstrap()


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
    if _settings(config).strict:
        config.pluginmanager.register(LeakWatch(), "patchguard-leakwatch")


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


def pytest_report_collectionfinish() -> list[str]:
    """Show the state the tests will run in, once every module is imported.

    The session header would be too early: a ``tests/__init__.py`` that
    bootstraps is imported during collection.
    """
    return [header(_state.state())]


def _effective_mode(current: _state.PatchState) -> tuple[str, str]:
    if current.mode != "unset":
        return current.mode, f"decided_by={current.decided_by}"
    if current.patched:
        return "eventlet", "not bootstrapped, but eventlet patched it"
    return "native", "not bootstrapped, nothing patched"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip ``eventlet_only``/``native_only`` tests in the other mode.

    Collection is over, so the mode is final; one pass over the items
    costs less than a check in every test's setup.
    """
    effective: tuple[str, str] | None = None
    for item in items:
        for mark in item.iter_markers():
            needed = MARKERS.get(mark.name)
            if needed is None:
                continue
            if effective is None:
                effective = _effective_mode(_state.state())
            mode, why = effective
            if mode != needed:
                item.add_marker(
                    pytest.mark.skip(
                        reason=f"{mark.name}: the process runs in {mode} "
                        f"mode ({why})"
                    )
                )


def _early_report(current: _state.PatchState) -> str:
    lines = [
        f"patchguard: strict: the bootstrap at {current.site} found "
        f"{len(current.early_threads)} early thread(s) and "
        f"{len(current.stale_refs)} stale reference(s); no test was run."
    ]
    kinds = (warn.EarlyThreadWarning, warn.StaleReferenceWarning)
    for finding in current.findings:
        if finding.category in kinds:
            lines.append(f"  {finding.category.__name__}: {finding.message}")
    return "\n".join(lines)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Stop before the first test on a mode mismatch or, in strict mode,
    on early threads or stale references (exit status 4).

    Collection has imported every conftest and test module (and so any
    ``tests/__init__.py`` bootstrap) by now, and no test has run.  It runs
    after the terminal reporter's own implementation, so the header line
    is already printed.  After collection errors pytest stops by itself
    and their report is the one to read: nothing is checked then.
    """
    if session.testsfailed:
        return
    settings = _settings(session.config)
    current = _state.state()
    mode, decided_by = current.mode, current.decided_by
    project = None
    if mode == "unset":
        # A project that decided for itself (nova's monkey_patch.py
        # selecting oslo.service's backend) has a mode too.
        from patchguard._hooks import oslo_backend as _oslo_backend

        project = _oslo_backend.project_decision()
        if project is not None:
            mode, decided_by = project["mode"], project["text"]
    if settings.expect != "any" and mode != settings.expect:
        hint = ""
        if mode == "unset":
            hint = (
                "; nothing imported patchguard.bootstrap: import it first "
                "in tests/__init__.py or pass --patchguard-bootstrap"
            )
        raise pytest.UsageError(
            f"patchguard: expected {settings.expect} mode, found "
            f"{mode} (decided_by={decided_by}){hint}"
        )
    if settings.strict and (current.early_threads or current.stale_refs):
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
