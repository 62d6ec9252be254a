"""Native first (issue 12): fork with live threads, who imported eventlet,
oslo.service's backend following the mode, spawn readiness, run --watch.

Everything that bootstraps, forks or starts threads runs in its own
interpreter; real cotyledon, oslo.config, oslo.service and oslo.messaging.
"""

from __future__ import annotations

import json
import sys

import pytest

from tests.helpers import ISOLATED, line_of, run_isolated

pytestmark = pytest.mark.isolated
POSIX = pytest.mark.skipif(sys.platform == "win32", reason="fork() is POSIX")


def _json(script: str, *args: str, **env: str) -> dict:  # type: ignore[type-arg]
    result = run_isolated(script, *args, env=env)
    assert result.returncode == 0, result.stderr
    return result.json()  # type: ignore[no-any-return]


def _forks(warnings: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    return [w for w in warnings if w["category"] == "ForkWarning"]


# --- §1 fork ---------------------------------------------------------------


@POSIX
def test_fork_after_pool_use_warns_in_native_mode() -> None:
    """A ThreadPoolExecutor used before os.fork() in native mode: one
    ForkWarning naming the pool thread, its target, the user's line that
    started it, what breaks and the fix; the child's submit() times out."""
    out = _json("fork_native.py", "pool", PATCHGUARD_MODE="native")
    assert out["mode"] == "native"
    assert out["child"] == [7, 7]  # the stranded pool never runs a task
    (warning,) = _forks(out["warnings"])
    text = warning["message"]
    assert "'ThreadPoolExecutor-0_0'" in text
    assert "target=_worker" in text
    started = line_of("fork_native.py", "starts the pool's worker")
    assert f"started at {started}" in text
    assert "never runs another task" in text
    assert "multiprocessing.get_context('spawn')" in text
    assert warning["filename"].endswith("fork_native.py")
    assert not out["eventlet_imported"]


@POSIX
@pytest.mark.parametrize("mode", ["native", "eventlet"])
def test_multiprocessing_fork_context_warns(mode: str) -> None:
    """multiprocessing's fork context with a thread alive warns in both
    modes, at the user's Process.start() line, naming the thread's
    target."""
    out = _json("fork_native.py", "mp", PATCHGUARD_MODE=mode)
    assert out["child"] == [0]
    (warning,) = _forks(out["warnings"])
    assert "heartbeat" in warning["message"]
    assert f"{warning['filename']}:{warning['lineno']}" == line_of(
        "fork_native.py", "proc.start()"
    )


@POSIX
@pytest.mark.parametrize("mode", ["native", "eventlet"])
def test_subprocess_never_warns(mode: str) -> None:
    """subprocess (fork+exec, with and without preexec_fn) never warns,
    even with a thread alive."""
    out = _json("fork_native.py", "subprocess", PATCHGUARD_MODE=mode)
    assert _forks(out["warnings"]) == []


@POSIX
def test_fork_without_threads_is_silent() -> None:
    """A fork with no other thread alive gives no warning."""
    out = _json("fork_native.py", "none", PATCHGUARD_MODE="native")
    assert out["child"] == [0]
    assert _forks(out["warnings"]) == []
    assert out["oslo_backend"] is None  # oslo.service never imported


@POSIX
def test_fork_warns_once_per_distinct_thread_set() -> None:
    """Four forks over two thread sets: exactly two ForkWarnings."""
    out = _json("fork_native.py", "sets", PATCHGUARD_MODE="native")
    first, second = _forks(out["warnings"])
    assert "'first'" in first["message"]
    assert "'second'" not in first["message"]
    assert "'first'" in second["message"]
    assert "'second'" in second["message"]


@POSIX
def test_eventlet_native_thread_is_not_a_greenthread() -> None:
    """eventlet mode: a native thread that runs its own hub is named as a
    native thread (name, target, start line); only the forking thread's
    greenthread is listed as a greenthread, never eventlet's hub code."""
    out = _json("fork_green_native.py", PATCHGUARD_MODE="eventlet")
    (warning,) = _forks(out["warnings"])
    text = warning["message"]
    assert "'heartbeat'" in text
    assert "target=heartbeat_loop" in text
    assert line_of("fork_green_native.py", "beat = threads") in text
    assert "1 greenthread(s)" in text
    assert "periodic_task at" in text
    assert "hubs/" not in text


@POSIX
def test_cotyledon_worker_fork_warns() -> None:
    """The real cotyledon's worker fork names the user's thread alive at
    that moment (cotyledon's own supervisor thread is expected)."""
    pytest.importorskip("cotyledon")
    out = _json("fork_cotyledon.py", PATCHGUARD_MODE="native")
    (warning,) = _forks(out["warnings"])
    assert "'poller'" in warning["message"]
    assert "_child_supervisor_thread" not in warning["message"]


# --- §2 who imported eventlet ----------------------------------------------


def test_eventlet_import_chain_in_native_mode() -> None:
    """The first import of eventlet in native mode: one
    EventletImportWarning with the chain from the entry point down to
    the importing library, in state().findings too."""
    out = _json("-m native_svc.cmd.api", PATCHGUARD_MODE="native")
    chain = "native_svc/cmd/api.py:4 -> native_svc/lib.py:3 -> eventlet"
    assert out["eventlet_imported_by"] == chain
    (finding,) = out["findings"]
    assert finding["category"] == "EventletImportWarning"
    assert chain in finding["message"]
    assert "PATCHGUARD_ALLOW_EVENTLET=native_svc.lib" in finding["message"]
    (warning,) = out["warnings"] or [finding]
    assert warning["category"] == "EventletImportWarning"


def test_eventlet_import_strict_raises_import_error() -> None:
    """PATCHGUARD_STRICT: the import fails with ImportError naming the
    chain."""
    result = run_isolated(
        "-m native_svc.cmd.api",
        env={"PATCHGUARD_MODE": "native", "PATCHGUARD_STRICT": "1"},
    )
    assert result.returncode != 0
    assert "ImportError: PATCHGUARD_STRICT" in result.stderr
    assert "native_svc/lib.py:3 -> eventlet" in result.stderr


def test_eventlet_import_allow_list() -> None:
    """An importer in PATCHGUARD_ALLOW_EVENTLET gives no finding, even in
    strict mode."""
    out = _json(
        "-m native_svc.cmd.api",
        PATCHGUARD_MODE="native",
        PATCHGUARD_STRICT="1",
        PATCHGUARD_ALLOW_EVENTLET="native_svc.lib",
    )
    assert out["findings"] == []
    assert out["eventlet_imported"]


@pytest.mark.parametrize("value", ["native-svc", "a,,b", "1mod"])
def test_eventlet_allow_list_is_validated(value: str) -> None:
    """A malformed PATCHGUARD_ALLOW_EVENTLET is a ConfigError naming the
    variable and the value, before anything is imported."""
    result = run_isolated(
        "-m native_svc.cmd.api",
        env={"PATCHGUARD_MODE": "native", "PATCHGUARD_ALLOW_EVENTLET": value},
    )
    assert result.returncode != 0
    assert "ConfigError: PATCHGUARD_ALLOW_EVENTLET=" in result.stderr
    assert repr(value) in result.stderr


def test_eventlet_import_warning_obeys_w_error() -> None:
    """-W error::patchguard.EventletImportWarning raises at the import."""
    result = run_isolated(
        "-m native_svc.cmd.api",
        env={"PATCHGUARD_MODE": "native"},
        pre_args=("-W", "error::patchguard.EventletImportWarning"),
    )
    assert result.returncode != 0
    assert "patchguard.warn.EventletImportWarning" in result.stderr


def test_eventlet_import_is_not_reported_in_eventlet_mode() -> None:
    """In eventlet mode importing eventlet is no finding."""
    out = _json("-m native_svc.cmd.api", PATCHGUARD_MODE="eventlet")
    assert [
        f for f in out["findings"] if f["category"] == "EventletImportWarning"
    ] == []


def test_check_reports_eventlet_import() -> None:
    """patchguard check of a native entry point that imports eventlet
    exits 1 naming the chain."""
    result = run_isolated(
        "-m patchguard",
        "check",
        "-m",
        "native_svc.cmd.api",
        env={"PATCHGUARD_MODE": "native"},
        cwd=ISOLATED,
    )
    assert result.returncode == 1, result.stderr
    assert "EventletImportWarning" in result.stdout
    assert "native_svc/lib.py:3 -> eventlet" in result.stdout


# --- §3 one decision across oslo.service / oslo.messaging ------------------


@pytest.mark.slow
def test_looping_call_ticks_in_native_mode() -> None:
    """Native mode + real oslo.messaging: oslo.service runs THREADING, a
    0.1 s FixedIntervalLoopingCall ticks in 1 s, oslo.messaging would pick
    the threading executor, nothing is patched."""
    pytest.importorskip("oslo_messaging")
    out = _json("oslo_backend.py", "after", PATCHGUARD_MODE="native")
    assert out["ticks"] >= 5
    assert out["patched"] == []
    oslo = out["oslo_backend"]
    assert (oslo["backend"], oslo["executor"]) == ("threading", "threading")
    assert oslo["selected_by"].startswith("patchguard (native mode")
    assert not [
        f for f in out["findings"] if f["category"] == "BackendMismatchWarning"
    ]


@pytest.mark.slow
def test_eventlet_mode_selects_eventlet_backend() -> None:
    """Eventlet mode: oslo.service runs EVENTLET and oslo.messaging would
    pick the eventlet executor; the looping call ticks."""
    pytest.importorskip("oslo_messaging")
    out = _json("oslo_backend.py", "after", PATCHGUARD_MODE="eventlet")
    assert out["ticks"] >= 5
    oslo = out["oslo_backend"]
    assert (oslo["backend"], oslo["executor"]) == ("eventlet", "eventlet")


@pytest.mark.slow
def test_early_backend_selection_is_refused_naming_where() -> None:
    """oslo.messaging imported before the native bootstrap (its import
    selects EVENTLET by default): PatchOrderError naming the selection's
    file:line and the user's import line; nothing patched."""
    pytest.importorskip("oslo_messaging")
    result = run_isolated(
        "oslo_backend.py", "before", env={"PATCHGUARD_MODE": "native"}
    )
    assert result.returncode == 3, result.stderr
    assert "cannot run native" in result.stdout
    assert "EVENTLET, selected by get_backend() default at " in result.stdout
    assert "oslo_service/service.py:" in result.stdout
    user_line = line_of("oslo_backend.py", "# noqa: F401 - selects")
    assert "(from oslo_backend.py:" + user_line.rsplit(":")[-1] in (
        result.stdout
    )
    assert "EVENTLET_PATCHED []" in result.stdout


# --- §4 spawn readiness ----------------------------------------------------


def test_spawn_ready_names_config_option_path() -> None:
    """A real oslo.config ConfigOpts with a lambda option type: the path
    to the lambda, with pickle's reason; a plain parsed one is ready."""
    cfg = pytest.importorskip("oslo_config.cfg")
    import patchguard

    conf = cfg.ConfigOpts()
    conf.register_opt(cfg.StrOpt("host", default="a"))
    conf([], project="demo")
    plain = patchguard.spawn_ready(conf, "conf")
    if plain and "_ConfigFileOpt" in plain[0].message:
        # The oslo.config pip gives an older Python (3.10) keeps a local
        # class in every ConfigOpts: nothing built on it can spawn.
        pytest.skip(f"this oslo.config cannot pickle a ConfigOpts: {plain[0]}")
    assert plain == []
    conf.register_opt(cfg.Opt("bad", type=lambda text: text))
    (finding,) = patchguard.spawn_ready(conf, "conf")
    assert finding.category is patchguard.SpawnWarning
    assert finding.message.startswith("conf._opts['bad']['opt'].type: ")
    assert "<lambda>" in finding.message


def test_spawn_ready_names_every_path() -> None:
    """A cotyledon service holding a lock and an open file: both paths,
    each with pickle's reason."""
    pytest.importorskip("cotyledon")
    found = run_isolated("spawn_paths.py").json()["found"]
    # pickle's own words differ: "'_io.TextIOWrapper' object" up to 3.12,
    # "'TextIOWrapper' instances" on 3.13.
    assert "cannot pickle" in found["service.conf['log']"]
    assert "TextIOWrapper'" in found["service.conf['log']"]
    assert "cannot pickle '_thread.lock'" in found["service.conf['lock']"]
    assert "service.conf['n']" not in found


def test_check_spawn_lists_locks_held_at_fork() -> None:
    """check --spawn names the module-level lock a thread holds (a fork
    would leave it held for good), never an idle one, with the thread."""
    pytest.importorskip("cotyledon")
    held = run_isolated(
        "-m patchguard", "check", "--spawn", "spawn_svc:build_held"
    )
    assert held.returncode == 1, held.stderr
    assert "locks a fork would leave held: 1" in held.stdout
    assert "spawn_svc.CACHE_LOCK (instance of _thread.lock)" in held.stdout
    assert "IDLE_LOCK" not in held.stdout
    assert "refresher" in held.stdout
    doc = run_isolated(
        "-m patchguard", "check", "--json", "--spawn", "spawn_svc:build_held"
    )
    payload = json.loads(doc.stdout)
    assert payload["locks_held_at_fork"] == [
        "spawn_svc.CACHE_LOCK (instance of _thread.lock)"
    ]


def test_check_spawn_cli() -> None:
    """patchguard check --spawn MODULE:ATTR exits 1 naming the path, 0 for
    a picklable service, 2 on a malformed value."""
    pytest.importorskip("cotyledon")
    bad = run_isolated(
        "-m patchguard", "check", "--spawn", "spawn_svc:build_bad"
    )
    assert bad.returncode == 1, bad.stderr
    assert "build_bad.conf['lock']: cannot pickle '_thread.lock'" in bad.stdout
    good = run_isolated(
        "-m patchguard", "check", "--spawn=spawn_svc:build_good"
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert "spawn-ready" in good.stdout
    usage = run_isolated("-m patchguard", "check", "--spawn", "spawn_svc")
    assert usage.returncode == 2
    assert "--spawn='spawn_svc' is not valid" in usage.stderr


# --- §0 run --watch ---------------------------------------------------------


def test_run_watch_decides_nothing() -> None:
    """run --watch starts the target as its project would: no decision,
    no eventlet, no variables set, arguments passed through."""
    result = run_isolated(
        "-m patchguard",
        "run",
        "--watch",
        "-m",
        "native_svc.cmd.watched",
        "--flag",
    )
    assert result.returncode == 0, result.stderr
    assert "WATCHED unset False None ['--flag']" in result.stdout
    both = run_isolated(
        "-m patchguard", "run", "--watch", "--mode", "native", "-m", "x"
    )
    assert both.returncode == 2
    assert "--watch decides nothing" in both.stderr


# --- §0 the legacy switch, project inferred or reported --------------------


def test_project_switch_inferred_from_entry_point() -> None:
    """OS_OSVC_DISABLE_EVENTLET_PATCHING=1 with no PATCHGUARD_PROJECT: the
    entry point's package (osvc) is the project, so it runs native."""
    out = _json(
        "-m osvc.cmd.volume", OS_OSVC_DISABLE_EVENTLET_PATCHING="1"
    )
    assert (out["mode"], out["decided_by"], out["project"]) == (
        "native",
        "OS_OSVC_DISABLE_EVENTLET_PATCHING",
        "osvc",
    )
    assert not out["eventlet_imported"]
    eventlet = _json(
        "-m osvc.cmd.volume", OS_OSVC_DISABLE_EVENTLET_PATCHING="no"
    )
    assert (eventlet["mode"], eventlet["decided_by"]) == (
        "eventlet",
        "OS_OSVC_DISABLE_EVENTLET_PATCHING",
    )


def test_unread_project_switch_is_a_finding() -> None:
    """OS_CINDER_DISABLE_EVENTLET_PATCHING=1 in a process that is not
    cinder and names no project: a finding naming the variable and the
    fix, never silence."""
    out = _json("-m osvc.cmd.volume", OS_CINDER_DISABLE_EVENTLET_PATCHING="1")
    assert out["mode"] == "eventlet"
    (finding,) = [
        f
        for f in out["findings"]
        if "OS_CINDER_DISABLE_EVENTLET_PATCHING" in f["message"]
    ]
    assert "PATCHGUARD_PROJECT=cinder" in finding["message"]
    assert "'osvc'" in finding["message"]


@POSIX
@pytest.mark.slow
def test_oslo_service_worker_fork_warns() -> None:
    """The real oslo.service (threading backend, cotyledon underneath)
    forking a worker names the user's thread alive at that moment."""
    pytest.importorskip("oslo_service")
    out = _json("fork_oslo_service.py", PATCHGUARD_MODE="native")
    assert out["oslo_backend"]["backend"] == "threading"
    (warning,) = _forks(out["warnings"])
    assert "'poller'" in warning["message"]
    assert "target=poller" in warning["message"]


LIGHT = """\
import json, os, sys
import patchguard.bootstrap
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
heavy = ("eventlet", "greenlet", "wrapt", "oslo_service", "oslo_messaging",
         "oslo_utils", "oslo_config", "futurist", "cotyledon")
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy)))
"""


@POSIX
def test_native_bootstrap_and_fork_stay_light(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Native mode with the fork, eventlet-import and oslo.service hooks:
    bootstrapping and forking import no eventlet, wrapt or oslo.*."""
    script = tmp_path / "light.py"
    script.write_text(LIGHT)
    result = run_isolated(script, env={"PATCHGUARD_MODE": "native"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("value", "mode"), [("1", "native"), ("false", "eventlet"), ("", "native")]
)
def test_run_honours_the_targets_project_switch(value: str, mode: str) -> None:
    """patchguard run -m osvc.cmd.show reads OS_OSVC_DISABLE_EVENTLET_PATCHING
    (the target's project): true native, false eventlet, empty no opinion
    (run's native default)."""
    result = run_isolated(
        "-m patchguard",
        "run",
        "-m",
        "osvc.cmd.show",
        env={"OS_OSVC_DISABLE_EVENTLET_PATCHING": value},
    )
    assert result.returncode == 0, result.stderr
    decided_by = (
        "entry-point default"
        if value == ""
        else "OS_OSVC_DISABLE_EVENTLET_PATCHING"
    )
    assert f"STATE {mode} {decided_by}" in result.stdout
