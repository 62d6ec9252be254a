"""The mode decision as a pure function: every variable, every pair."""

from __future__ import annotations

import itertools
import sys
import types

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patchguard import ConfigError
from patchguard._decision import policy as _policy
from patchguard._decision.policy import decide

ALL = frozenset(
    {"os", "select", "socket", "thread", "time", "psycopg", "subprocess"}
)


#: The test process itself must not look like a host, tool or debugger.
pytestmark = pytest.mark.usefixtures("no_host")


def test_default_is_eventlet_with_everything() -> None:
    """With nothing set the process is eventlet, patching eventlet's set."""
    d = decide({})
    assert (d.mode, d.decided_by, d.options) == ("eventlet", "default", ALL)


@pytest.mark.parametrize(
    ("value", "mode"),
    [
        ("eventlet", "eventlet"),
        (" Native ", "native"),
        ("NATIVE", "native"),
        ("auto", "eventlet"),
        ("", "eventlet"),
        ("  ", "eventlet"),
    ],
)
def test_mode_values(value: str, mode: str) -> None:
    """PATCHGUARD_MODE is case-insensitive, trimmed; empty means auto."""
    d = decide({"PATCHGUARD_MODE": value})
    assert d.mode == mode
    expected = (
        "PATCHGUARD_MODE"
        if value.strip().lower() in ("eventlet", "native")
        else "default"
    )
    assert d.decided_by == expected


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("PATCHGUARD_MODE", "green"),
        ("PATCHGUARD_PATCH", "sockets"),
        ("PATCHGUARD_PATCH", "-thread"),
        ("PATCHGUARD_PATCH", "socket,-thread"),
        ("PATCHGUARD_PATCH", "socket,,time"),
        ("PATCHGUARD_PATCH", "all,-bogus"),
        ("PATCHGUARD_PATCH", "time,all"),
        ("PATCHGUARD_PROJECT", "no-va"),
        ("PATCHGUARD_PROJECT", "1nova"),
        ("DISABLE_EVENTLET_PATCHING", "maybe"),
        ("PATCHGUARD_STRICT", "2"),
    ],
)
def test_bad_values_name_variable_value_and_accepted(
    var: str, value: str
) -> None:
    """A bad value raises ConfigError naming the variable, value, choices."""
    with pytest.raises(ConfigError) as info:
        decide({var: value})
    message = str(info.value)
    assert var in message
    assert repr(value) in message
    assert "accepted" in message
    assert isinstance(info.value, ValueError)


def test_project_legacy_variable_is_validated() -> None:
    """OS_<PROJECT>_DISABLE_EVENTLET_PATCHING is validated like the rest."""
    with pytest.raises(ConfigError, match="OS_NOVA_DISABLE_EVENTLET_PATCHING"):
        decide(
            {
                "PATCHGUARD_PROJECT": "nova",
                "OS_NOVA_DISABLE_EVENTLET_PATCHING": "perhaps",
            }
        )


def test_bad_value_raises_even_when_a_higher_setting_decides() -> None:
    """Every input is validated, not only the one that decides."""
    with pytest.raises(ConfigError, match="DISABLE_EVENTLET_PATCHING"):
        decide({"DISABLE_EVENTLET_PATCHING": "nope"}, mode="native")


@pytest.mark.parametrize(
    ("value", "options"),
    [
        ("all", ALL),
        ("ALL, -Thread", ALL - {"thread"}),
        ("all,-thread,-subprocess", ALL - {"thread", "subprocess"}),
        ("socket,time", frozenset({"socket", "time"})),
        (
            "mysqldb, builtins, time",
            frozenset({"MySQLdb", "builtins", "time"}),
        ),
        ("all,MySQLdb", ALL | {"MySQLdb"}),
        ("", ALL),
    ],
)
def test_patch_lists(value: str, options: frozenset[str]) -> None:
    """PATCHGUARD_PATCH forms: all, exclusions, additions, plain lists."""
    assert decide({"PATCHGUARD_PATCH": value}).options == options


def test_patch_that_leaves_nothing_is_refused() -> None:
    """Excluding everything is an error that points at native mode."""
    value = "all," + ",".join(f"-{o}" for o in sorted(ALL))
    with pytest.raises(ConfigError, match="PATCHGUARD_MODE=native"):
        decide({"PATCHGUARD_PATCH": value})


def test_operator_patch_wins_over_argument() -> None:
    """patch= is used only where PATCHGUARD_PATCH is unset."""
    assert decide({}, patch="socket").options == {"socket"}
    assert decide({"PATCHGUARD_PATCH": "time"}, patch="socket").options == {
        "time"
    }


def test_operator_project_wins_over_argument() -> None:
    """project= is used only where PATCHGUARD_PROJECT is unset."""
    env = {
        "OS_NOVA_DISABLE_EVENTLET_PATCHING": "1",
        "OS_CINDER_DISABLE_EVENTLET_PATCHING": "0",
    }
    assert decide(env, project="nova").mode == "native"
    both = dict(env, PATCHGUARD_PROJECT="cinder")
    assert decide(both, project="nova").mode == "eventlet"


@pytest.mark.parametrize("value", ["1", "true", "YES", " on "])
def test_legacy_true_means_native(value: str) -> None:
    """DISABLE_EVENTLET_PATCHING true → native, naming the variable."""
    d = decide({"DISABLE_EVENTLET_PATCHING": value})
    assert (d.mode, d.decided_by) == ("native", "DISABLE_EVENTLET_PATCHING")


@pytest.mark.parametrize("value", ["0", "false", "No", "off", ""])
def test_legacy_false_has_no_opinion(value: str) -> None:
    """A false or empty legacy switch leaves the decision to what follows."""
    d = decide({"DISABLE_EVENTLET_PATCHING": value}, default="native")
    assert (d.mode, d.decided_by) == ("native", "entry-point default")


@pytest.mark.parametrize("value", ["0", "false", "No", " off "])
def test_project_false_means_eventlet_explicitly(value: str) -> None:
    """OS_<PROJECT>_... false spellings ask for eventlet, as nova 34 and
    cinder 29 read them: they beat the entry point's native default."""
    env = {"OS_CINDER_DISABLE_EVENTLET_PATCHING": value}
    d = decide(env, project="cinder", default="native")
    assert (d.mode, d.decided_by) == (
        "eventlet",
        "OS_CINDER_DISABLE_EVENTLET_PATCHING",
    )
    assert "set to false" in d.reason


def test_project_empty_has_no_opinion() -> None:
    """An empty OS_<PROJECT>_... leaves the decision to what follows."""
    env = {"OS_CINDER_DISABLE_EVENTLET_PATCHING": " "}
    d = decide(env, project="cinder", default="native")
    assert (d.mode, d.decided_by) == ("native", "entry-point default")
    assert d.stray == ()


def test_project_inferred_from_entry_package() -> None:
    """With no project named, the entry point's top-level package is the
    project when its variable is set (cinder-volume + OS_CINDER_...=1)."""
    env = {"OS_CINDER_DISABLE_EVENTLET_PATCHING": "1"}
    d = decide(env, inferred="cinder")
    assert (d.mode, d.decided_by, d.project) == (
        "native",
        "OS_CINDER_DISABLE_EVENTLET_PATCHING",
        "cinder",
    )
    assert d.stray == ()
    # A named project wins over the inferred one.
    assert decide(env, project="nova", inferred="cinder").mode == "eventlet"


def test_unread_project_variable_is_reported() -> None:
    """An OS_*_DISABLE_EVENTLET_PATCHING that no known project reads is
    listed in Decision.stray (turned into a finding), never ignored."""
    env = {
        "OS_CINDER_DISABLE_EVENTLET_PATCHING": "1",
        "OS_X_DISABLE_EVENTLET_PATCHING": "",
    }
    d = decide(env, inferred="svc")
    assert d.mode == "eventlet"
    assert d.stray == ("OS_CINDER_DISABLE_EVENTLET_PATCHING",)


def test_project_variable_needs_project() -> None:
    """OS_NOVA_... decides only once the project is named (else stray)."""
    env = {"OS_NOVA_DISABLE_EVENTLET_PATCHING": "true"}
    assert decide(env).mode == "eventlet"
    assert decide(env).stray == ("OS_NOVA_DISABLE_EVENTLET_PATCHING",)
    d = decide(dict(env, PATCHGUARD_PROJECT="Nova"))
    assert (d.mode, d.decided_by) == (
        "native",
        "OS_NOVA_DISABLE_EVENTLET_PATCHING",
    )


# --- precedence -----------------------------------------------------------
# Each level, and how to make it say "native" / "eventlet" (None: it cannot).
LEVELS = [
    ("argument", {"mode": "native"}, {"mode": "eventlet"}, {}, {}),
    (
        "PATCHGUARD_MODE",
        {},
        {},
        {"PATCHGUARD_MODE": "native"},
        {"PATCHGUARD_MODE": "eventlet"},
    ),
    (
        "OS_NOVA_DISABLE_EVENTLET_PATCHING",
        {},
        None,
        {
            "PATCHGUARD_PROJECT": "nova",
            "OS_NOVA_DISABLE_EVENTLET_PATCHING": "1",
        },
        {
            "PATCHGUARD_PROJECT": "nova",
            "OS_NOVA_DISABLE_EVENTLET_PATCHING": "0",
        },
    ),
    (
        "DISABLE_EVENTLET_PATCHING",
        {},
        None,
        {"DISABLE_EVENTLET_PATCHING": "yes"},
        None,
    ),
    ("wsgi:mod_wsgi", {}, None, {"<host>": "mod_wsgi"}, None),
    ("tool:flake8", {}, None, {"<tool>": "flake8"}, None),
    ("debugger:pdb", {}, None, {"<debugger>": "pdb"}, None),
    (
        "entry-point default",
        {"default": "native"},
        {"default": "eventlet"},
        {},
        {},
    ),
]


def _apply_level(
    monkeypatch: pytest.MonkeyPatch,
    args: dict[str, str],
    env: dict[str, str],
    kwargs: dict[str, str],
    environ: dict[str, str],
) -> None:
    kwargs.update(args)
    for key, value in env.items():
        if key == "<host>":
            mod = types.ModuleType("mod_wsgi")
            mod.process_group = ""  # type: ignore[attr-defined]
            monkeypatch.setitem(sys.modules, "mod_wsgi", mod)
        elif key == "<tool>":
            monkeypatch.setattr(sys, "argv", [f"/usr/bin/{value}"])
        elif key == "<debugger>":
            import pdb

            tracer = pdb.Pdb().trace_dispatch
            monkeypatch.setattr(sys, "gettrace", lambda t=tracer: t)
        else:
            environ[key] = value


PAIRS = [(hi, lo) for hi, lo in itertools.combinations(range(len(LEVELS)), 2)]


@pytest.mark.parametrize(
    ("hi", "lo"),
    PAIRS,
    ids=[f"{LEVELS[h][0]}>{LEVELS[lo][0]}" for h, lo in PAIRS],
)
def test_precedence_pair(
    monkeypatch: pytest.MonkeyPatch, hi: int, lo: int
) -> None:
    """The higher level decides whatever the lower one says."""
    hi_name, hi_nat_args, hi_ev_args, hi_nat_env, hi_ev_env = LEVELS[hi]
    lo_name, lo_nat_args, lo_ev_args, lo_nat_env, lo_ev_env = LEVELS[lo]
    kwargs: dict[str, str] = {}
    environ: dict[str, str] = {}
    # Opposite opinions where the higher level can say eventlet.
    if hi_ev_args is not None and hi_ev_env is not None:
        _apply_level(monkeypatch, hi_ev_args, hi_ev_env, kwargs, environ)
        expect = "eventlet"
    else:
        _apply_level(monkeypatch, hi_nat_args, hi_nat_env, kwargs, environ)
        expect = "native"
    _apply_level(monkeypatch, lo_nat_args, lo_nat_env, kwargs, environ)
    d = decide(environ, **kwargs)
    assert (d.mode, d.decided_by) == (expect, hi_name)


def test_default_argument_replaces_last_fallback_only() -> None:
    """default= decides only when nothing else did."""
    d = decide({}, default="native")
    assert (d.mode, d.decided_by) == ("native", "entry-point default")
    with pytest.raises(ConfigError, match="default"):
        decide({}, default="auto")
    with pytest.raises(ConfigError, match="mode='greenish'"):
        decide({}, mode="greenish")


def test_pip_mod_wsgi_package_does_not_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An importable mod_wsgi package (mod_wsgi-express) is not a host."""
    mod = types.ModuleType("mod_wsgi")
    mod.__file__ = "/venv/site-packages/mod_wsgi/__init__.py"
    monkeypatch.setitem(sys.modules, "mod_wsgi", mod)
    assert decide({}).mode == "eventlet"


@pytest.mark.parametrize(
    ("argv0", "tool"),
    [
        ("/usr/bin/flake8", "flake8"),
        ("pylint", "pylint"),
        ("/venv/bin/sphinx-build", "sphinx-build"),
        ("oslo-config-generator", "oslo-config-generator"),
        ("/usr/bin/oslopolicy-checker", "oslopolicy-checker"),
    ],
)
def test_tools_run_native(
    monkeypatch: pytest.MonkeyPatch, argv0: str, tool: str
) -> None:
    """Lint/doc/config tools are detected from the program name."""
    monkeypatch.setattr(sys, "argv", [argv0])
    d = decide({})
    assert (d.mode, d.decided_by, d.tool) == ("native", f"tool:{tool}", tool)


def test_uwsgi_builtin_module_is_a_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """uWSGI's embedded module (no __file__, has opt) means native."""
    mod = types.ModuleType("uwsgi")
    mod.opt = {}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "uwsgi", mod)
    d = decide({})
    assert (d.mode, d.decided_by, d.wsgi_host) == (
        "native",
        "wsgi:uwsgi",
        "uwsgi",
    )


VARS = [
    "PATCHGUARD_MODE",
    "PATCHGUARD_PATCH",
    "PATCHGUARD_PROJECT",
    "PATCHGUARD_STRICT",
    "DISABLE_EVENTLET_PATCHING",
    "OS_NOVA_DISABLE_EVENTLET_PATCHING",
]


@settings(max_examples=300, deadline=None)
@given(
    var=st.sampled_from(VARS),
    value=st.text(max_size=30),
)
def test_any_string_decides_or_raises_config_error(
    var: str, value: str
) -> None:
    """Arbitrary text in any variable decides a mode or raises ConfigError
    naming that variable."""
    environ = {var: value}
    if var.startswith("OS_NOVA"):
        environ["PATCHGUARD_PROJECT"] = "nova"
    try:
        d = decide(environ)
    except ConfigError as exc:
        message = str(exc)
    else:
        message = ""
        assert d.mode in ("eventlet", "native")
        assert d.decided_by
        assert d.reason
    if message:
        assert var in message


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(VARS), st.text(max_size=20)))
def test_any_environment_decides_or_raises(environ: dict[str, str]) -> None:
    """Any combination of values decides or raises ConfigError, nothing
    else."""
    try:
        d = decide(environ)
    except ConfigError:
        return
    assert d.mode in ("eventlet", "native")
    assert d.options == frozenset() or d.mode == "eventlet"


def test_invalid_accepted_text_lists_every_option() -> None:
    """The PATCHGUARD_PATCH error lists eventlet's option names."""
    with pytest.raises(ConfigError) as info:
        decide({"PATCHGUARD_PATCH": "bogus"})
    for option in _policy.OPTIONS:
        assert repr(option) in str(info.value)
