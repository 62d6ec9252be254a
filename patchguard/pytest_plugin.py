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
from collections.abc import Generator
from typing import Any

import pytest

from patchguard import _state, warn
from patchguard._decision import log as _log
from patchguard._decision import policy as _policy
from patchguard._errors import ConfigError, PatchOrderError
from patchguard._plugin import options as _options
from patchguard._plugin.leakwatch import LeakWatch
from patchguard._plugin.options import Settings

#: marker → the mode it needs.
MARKERS = {"eventlet_only": "eventlet", "native_only": "native"}
#: the marker running a test under :func:`patchguard.watchdog.no_stall`.
NO_STALL = "patchguard_no_stall"

_SETTINGS = pytest.StashKey[Settings]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``--patchguard-*`` options and ini keys."""
    _options.add(parser)


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
    settings = _options.resolve(
        early_config, early_config.known_args_namespace
    )
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
        settings = _options.resolve(config, config.option)
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
