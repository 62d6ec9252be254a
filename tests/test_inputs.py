"""Every input validated on every channel (issue 11 §3).

Arguments of ``apply()``, environment variables, the CLI's ``--mode`` and
``--patch`` and the pytest ini keys: a bad value of any type is refused
with ``ConfigError`` (or the channel's usage error) naming the argument,
quoting at most ~100 characters of the value with its length, and listing
what that argument accepts.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patchguard import ConfigError, warn
from patchguard._decision import policy as _policy
from patchguard._decision.policy import decide
from tests.helpers import ISOLATED, run_isolated

STDLIB = sorted(_policy.STDLIB_OPTIONS)
#: The words that only the matching argument's accepted list contains.
ACCEPTED_MARK = {
    "mode": "'native'",
    "default": "'native'",
    "patch": "'socket'",
    "project": "'nova'",
}
#: An environment that decides every question by itself: arguments must
#: still be validated under it.
DECIDING_ENV = {
    "PATCHGUARD_MODE": "native",
    "PATCHGUARD_PATCH": "all",
    "PATCHGUARD_PROJECT": "nova",
}

odd_values = st.one_of(
    st.binary(max_size=20),
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.just([]),
    st.just(()),
    st.just(set()),
    st.just({}),
    st.lists(st.one_of(st.integers(), st.none(), st.binary()), min_size=1),
    st.dictionaries(
        st.sampled_from(_policy.OPTIONS),
        st.one_of(st.integers(), st.text(max_size=5), st.none()),
        min_size=1,
    ),
    st.builds(object),
)


#: The test process itself must not look like a host, tool or debugger.
pytestmark = pytest.mark.usefixtures("no_host")


def _refused(argument: str, value: object, environ: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as info:
        decide(environ, **{argument: value})
    message = str(info.value)
    assert message.startswith(f"{argument}="), message
    return message


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("patch", "bogus"),
        ("project", "no-va"),
        ("mode", "green"),
        ("default", "auto"),
    ],
)
def test_arguments_validated_when_the_variable_is_set(
    argument: str, value: str
) -> None:
    """A bad argument raises even when the matching variable decides."""
    message = _refused(argument, value, DECIDING_ENV)
    assert repr(value) in message
    assert ACCEPTED_MARK[argument] in message


@settings(max_examples=300, deadline=None)
@given(
    argument=st.sampled_from(sorted(ACCEPTED_MARK)),
    value=odd_values,
    env=st.sampled_from([{}, DECIDING_ENV]),
)
def test_odd_types_refused_naming_the_argument(
    argument: str, value: object, env: dict[str, str]
) -> None:
    """bytes, numbers, empty containers, bad items: ConfigError naming the
    argument, the value's type and the accepted values."""
    message = _refused(argument, value, env)
    assert f"({type(value).__name__}" in message
    assert ACCEPTED_MARK[argument] in message


@settings(max_examples=200, deadline=None)
@given(
    argument=st.sampled_from(sorted(ACCEPTED_MARK)),
    value=st.text(min_size=101, max_size=5000).map(lambda t: "#" + t),
)
def test_long_values_are_cut_with_their_length(
    argument: str, value: str
) -> None:
    """At most ~100 characters of a bad value are quoted, with its length."""
    message = _refused(argument, value, {})
    assert f"(str of length {len(value)}, cut)" in message
    assert value not in message
    quoted = message.split(" is not valid")[0]
    assert len(quoted) <= len(argument) + 1 + _policy.SHOWN + 40


@pytest.mark.parametrize(
    "value",
    [
        "mysqldb",
        "psycopg",
        "builtins",
        "MySQLdb,psycopg,builtins",
        "all,-os,-select,-socket,-thread,-time,-subprocess",
        ["MySQLdb"],
        {"MySQLdb": True},
        {"all": False, "psycopg": True},
    ],
)
def test_patch_without_stdlib_option_is_refused(value: object) -> None:
    """A patch list that makes nothing in the stdlib green is refused, as
    argument and as PATCHGUARD_PATCH."""
    message = _refused("patch", value, {})
    assert "standard library" in message
    if isinstance(value, str):
        with pytest.raises(ConfigError, match="^PATCHGUARD_PATCH="):
            decide({"PATCHGUARD_PATCH": value})


def _eventlet_meaning(on: dict[str, bool]) -> set[str]:
    """eventlet's documented reading of ``monkey_patch(**on)``."""
    on = dict(on)
    default_on = on.pop("all", None)
    if default_on is None:
        default_on = True not in on.values()
    chosen = {name for name, flag in on.items() if flag}
    if default_on:
        chosen |= {o for o in _policy.DEFAULT_OPTIONS if o not in on}
    return chosen


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*_policy.OPTIONS, "all"]),
        st.booleans(),
        min_size=1,
    )
)
def test_dict_is_read_as_eventlet_reads_keywords(on: dict[str, bool]) -> None:
    """patch={"thread": False} means what monkey_patch(thread=False)
    means, never "patch thread"; selections without stdlib are refused."""
    expected = _eventlet_meaning(on)
    if not expected & _policy.STDLIB_OPTIONS:
        with pytest.raises(ConfigError, match="^patch="):
            decide({}, patch=on)
        return
    assert decide({}, patch=on).options == expected


def test_thread_false_dict_keeps_thread_native() -> None:
    """The issue's case: {"thread": False} no longer patches thread."""
    options = decide({}, patch={"thread": False}).options
    assert "thread" not in options
    assert options == _policy.DEFAULT_OPTIONS - {"thread"}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([*_policy.OPTIONS, "all"]), min_size=1),
)
def test_list_means_the_same_as_the_comma_string(items: list[str]) -> None:
    """A list of names and the same names joined by commas give the same
    decision or the same refusal."""

    def outcome(value: object) -> object:
        try:
            return decide({}, patch=value).options
        except ConfigError:
            return ConfigError

    assert outcome(items) == outcome(",".join(items))
    assert outcome(tuple(items)) == outcome(items)


@pytest.mark.isolated
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--patch", "mysqldb"), "--patch='mysqldb' selects only MySQLdb"),
        (("--patch", ""), "--patch='' is not valid; accepted values: 'all'"),
        (("--patch", "x" * 300), "(str of length 300, cut)"),
        (("--mode", "green"), "--mode='green' is not valid; accepted"),
    ],
)
def test_cli_flags_are_validated(args: tuple[str, ...], needle: str) -> None:
    """patchguard run --patch/--mode: exit 2 with the flag named."""
    script = str(ISOLATED / "clean.py")
    result = run_isolated("-m patchguard", "run", *args, script, timeout=60)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr


@settings(max_examples=200, deadline=None)
@given(
    value=st.one_of(
        odd_values,
        st.text(max_size=30).filter(
            lambda t: not all(warn._expand(n.strip()) for n in t.split(","))
        ),
    )
)
def test_check_refuses_odd_expected_values(value: object) -> None:
    """warn.check(expected=...) refuses what it cannot read, naming the
    argument, in any process state (never a char-by-char read of a str)."""
    with pytest.raises(ConfigError) as info:
        warn.check(value)  # type: ignore[arg-type]
    message = str(info.value)
    assert message.startswith("check(expected=")
    assert "accepted values: 'all', os, select" in message


def test_check_accepts_a_comma_string() -> None:
    """check("thread,socket") means check(["thread", "socket"])."""
    assert warn.check("thread,socket") == warn.check(["thread", "socket"])
