"""Validate each setting's value: one parser per kind of value.

Every channel (environment variables, :func:`patchguard.apply`'s
arguments, ``patchguard run --mode/--patch``, the pytest ini keys) goes
through these parsers, so a bad value gets the same answer everywhere: a
:class:`~patchguard.ConfigError` naming the variable, argument or key,
quoting at most :data:`SHOWN` characters of the value with its type and
length, and listing what that setting accepts.  Nothing but the
exception class is imported.
"""

from __future__ import annotations

from patchguard._errors import ConfigError
from patchguard._timeouts import HUB_MAX

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

MODES = ("auto", "eventlet", "native")
#: eventlet's ``monkey_patch()`` keyword names, in eventlet's spelling.
OPTIONS = (
    "os",
    "select",
    "socket",
    "thread",
    "time",
    "psycopg",
    "MySQLdb",
    "builtins",
    "subprocess",
)
#: What a bare ``eventlet.monkey_patch()`` patches (MySQLdb and builtins
#: are opt-in in eventlet).
DEFAULT_OPTIONS = frozenset(OPTIONS) - {"MySQLdb", "builtins"}
_BY_LOWER = {name.lower(): name for name in OPTIONS}

TRUE_VALUES = ("1", "true", "yes", "on")
FALSE_VALUES = ("0", "false", "no", "off", "")

MODE_VAR = "PATCHGUARD_MODE"
PATCH_VAR = "PATCHGUARD_PATCH"
PROJECT_VAR = "PATCHGUARD_PROJECT"
STRICT_VAR = "PATCHGUARD_STRICT"
ALLOW_EVENTLET_VAR = "PATCHGUARD_ALLOW_EVENTLET"
LEGACY_VAR = "DISABLE_EVENTLET_PATCHING"
WATCHDOG_VAR = "PATCHGUARD_WATCHDOG"
WATCHDOG_TASK_VAR = "PATCHGUARD_WATCHDOG_TASK"
#: stuck-task threshold when PATCHGUARD_WATCHDOG_TASK is unset (seconds).
DEFAULT_TASK_THRESHOLD = 60.0
PROJECT_VAR_PREFIX, PROJECT_VAR_SUFFIX = "OS_", "_DISABLE_EVENTLET_PATCHING"
#: eventlet's own hub switch, validated before anything patches.
HUB_VAR = "EVENTLET_HUB"
#: eventlet's built-in hubs → the ``select`` attribute each one needs.
HUBS = {
    "epolls": "epoll",
    "kqueue": "kqueue",
    "poll": "poll",
    "selects": "select",
    "asyncio": "",
}


def _accepted(values: Iterable[str]) -> str:
    return ", ".join(repr(v) for v in values)


#: Characters of a bad value quoted in a message; the rest is cut.
SHOWN = 100


def show(value: object) -> str:
    """Quote a bad value for a message: at most :data:`SHOWN` characters of
    its ``repr``, with its type (unless a string) and, when cut, its length.

    :param value: the value as given.
    :returns: e.g. ``'bogus'``, ``b'x' (bytes)`` or
        ``'aaaa...' (str of length 5000, cut)``.
    """
    text = repr(value)
    kind = type(value).__name__
    if len(text) > SHOWN:
        try:
            size = f" of length {len(value)}"  # type: ignore[arg-type]
        except TypeError:
            size = ""
        return f"{text[:SHOWN]}... ({kind}{size}, cut)"
    if isinstance(value, str):
        return text
    return f"{text} ({kind})"


def _bad(
    name: str, value: object, accepted: str, values: Iterable[str] = ()
) -> ConfigError:
    # The structured fields feed ``check --json``'s error document.
    return ConfigError(
        f"{name}={show(value)} is not valid; accepted values: {accepted}",
        name,
        value,
        tuple(values),
    )


def parse_mode(name: str, value: object) -> str:
    """Validate a mode value; ``None`` and empty mean ``"auto"``.

    :param name: the variable or argument name, for the error message.
    :param value: the raw value.
    :returns: ``"auto"``, ``"eventlet"`` or ``"native"``.
    :raises ConfigError: on any other value or type.
    """
    if value is None:
        return "auto"
    if not isinstance(value, str):
        raise _bad(name, value, _accepted(MODES), MODES)
    text = value.strip().lower()
    if text == "":
        return "auto"
    if text not in MODES:
        raise _bad(name, value, _accepted(MODES), MODES)
    return text


_FLAG_ACCEPTED = (
    f"true ({_accepted(TRUE_VALUES)}), false "
    f"({_accepted(FALSE_VALUES[:-1])}) or empty"
)


def parse_flag(name: str, value: object) -> bool | None:
    """Validate a boolean switch (an environment variable or ini key).

    :param name: the variable or ini key, for the error message.
    :param value: the raw value, or ``None`` when unset.
    :returns: ``True``, ``False``, or ``None`` for unset/empty
        ("no opinion").
    :raises ConfigError: on a value that is neither true nor false.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        # pytest hands ini values from pyproject.toml over as they are.
        return value
    if not isinstance(value, str):
        raise _bad(name, value, _FLAG_ACCEPTED, TRUE_VALUES + FALSE_VALUES)
    text = value.strip().lower()
    if text == "":
        return None
    if text in TRUE_VALUES:
        return True
    if text in FALSE_VALUES:
        return False
    raise _bad(name, value, _FLAG_ACCEPTED, TRUE_VALUES + FALSE_VALUES)


#: What eventlet makes green in the standard library; a patch list must
#: select at least one, or "eventlet mode" would leave everything native.
STDLIB_OPTIONS = frozenset(
    {"os", "select", "socket", "thread", "time", "subprocess"}
)

_PATCH_FORMS = ("all", "all,-OPTION", "all,OPTION", *OPTIONS)
_PATCH_ACCEPTED = (
    "'all' (the default), 'all' followed by exclusions such as "
    "'all,-thread' or opt-in additions such as 'all,MySQLdb', a comma "
    "list of " + _accepted(OPTIONS) + " (as a string, or a list/tuple/set "
    "of those names) selecting at least one of "
    + _accepted(sorted(STDLIB_OPTIONS))
    + ", or a dict of those names to True/False read as eventlet's "
    "monkey_patch(name=bool) keywords"
)


def _from_items(name: str, value: object, items: list[str]) -> set[str]:
    lowered = [item.strip().lower() for item in items]
    if lowered[0] == "all":
        chosen = set(DEFAULT_OPTIONS)
        for item in lowered[1:]:
            excluded = item[:1] == "-"
            option = _BY_LOWER.get(item[1:] if excluded else item)
            if option is None:
                raise _bad(name, value, _PATCH_ACCEPTED, _PATCH_FORMS)
            if excluded:
                chosen.discard(option)
            else:
                # ``all,MySQLdb``: add one of eventlet's opt-in patches.
                chosen.add(option)
        return chosen
    chosen = set()
    for item in lowered:
        option = _BY_LOWER.get(item)
        if option is None:
            raise _bad(name, value, _PATCH_ACCEPTED, _PATCH_FORMS)
        chosen.add(option)
    return chosen


def _from_keywords(name: str, value: Mapping[object, object]) -> set[str]:
    # eventlet's own convention (patcher.monkey_patch): a True anywhere
    # means "only these"; only Falses mean "the defaults minus these";
    # ``all=`` sets the default for names not given.
    on: dict[str, bool] = {}
    default_on: bool | None = None
    for key, flag in value.items():
        if not isinstance(key, str) or type(flag) is not bool:
            raise _bad(name, value, _PATCH_ACCEPTED, _PATCH_FORMS)
        if key.strip().lower() == "all":
            default_on = flag
            continue
        option = _BY_LOWER.get(key.strip().lower())
        if option is None:
            raise _bad(name, value, _PATCH_ACCEPTED, _PATCH_FORMS)
        on[option] = flag
    if default_on is None:
        default_on = True not in on.values()
    chosen = {o for o, flag in on.items() if flag}
    if default_on:
        chosen |= {o for o in DEFAULT_OPTIONS if o not in on}
    return chosen


def parse_patch(name: str, value: object) -> frozenset[str]:
    """Validate a patch list such as ``all,-thread`` or ``socket,time``.

    Accepted forms: a comma-separated string; a list, tuple or set of
    option names (the same items as the string form); or a dict of option
    names to ``True``/``False``, read exactly as eventlet reads
    ``monkey_patch(thread=False)`` (only ``False`` values: the defaults
    minus those; any ``True``: only the ``True`` ones).  Anything else
    (bytes, numbers, ``None`` items, empty containers, an empty string
    from an argument) is refused rather than guessed at.

    :param name: the variable or argument name, for the error message.
    :param value: the value as given; ``None`` means ``all``.
    :returns: the eventlet option names to patch (never empty, always with
        at least one standard library option).
    :raises ConfigError: on an unknown name or type, a misplaced ``all``
        or ``-``, an empty item, or a list that leaves no standard library
        module to patch.
    """
    if value is None:
        return DEFAULT_OPTIONS
    if isinstance(value, str):
        if value.strip() == "":
            raise _bad(name, value, _PATCH_ACCEPTED, _PATCH_FORMS)
        chosen = _from_items(name, value, value.split(","))
    elif isinstance(value, dict):
        if not value:
            raise _bad(name, value, _PATCH_ACCEPTED, _PATCH_FORMS)
        chosen = _from_keywords(name, value)
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        if not items or not all(
            isinstance(i, str) and i.strip() for i in items
        ):
            raise _bad(name, value, _PATCH_ACCEPTED, _PATCH_FORMS)
        if isinstance(value, (set, frozenset)):
            # A set has no order: ``all`` must come first, so sort it there.
            items.sort(key=lambda i: i.strip().lower() != "all")
        chosen = _from_items(name, value, items)
    else:
        raise _bad(name, value, _PATCH_ACCEPTED, _PATCH_FORMS)
    if not chosen:
        raise ConfigError(
            f"{name}={show(value)} leaves nothing to patch; "
            f"use {MODE_VAR}=native for an unpatched process",
            name,
            value,
            _PATCH_FORMS,
        )
    if not chosen & STDLIB_OPTIONS:
        raise ConfigError(
            f"{name}={show(value)} selects only "
            f"{','.join(sorted(chosen))}, which makes nothing in the "
            f"standard library green: the process would claim eventlet "
            f"mode with native sockets, threads and sleeps. Add the "
            f"standard library patches ('all,{','.join(sorted(chosen))}') "
            f"or use {MODE_VAR}=native; accepted values: {_PATCH_ACCEPTED}",
            name,
            value,
            _PATCH_FORMS,
        )
    return frozenset(chosen)


def parse_project(name: str, value: object) -> str | None:
    """Validate a project name (letters, digits, ``_``; starts with a letter).

    :param name: the variable or argument name, for the error message.
    :param value: the raw value.
    :returns: the stripped name, or ``None`` when unset or empty.
    :raises ConfigError: when it cannot form an environment variable name.
    """
    accepted = (
        "a project name such as 'nova' (ASCII letters, digits and '_', "
        "starting with a letter), or None"
    )
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(name, value, accepted)
    text = value.strip()
    if text == "":
        return None
    if not (
        text.isascii()
        and text[0].isalpha()
        and text.replace("_", "").isalnum()
    ):
        raise _bad(name, value, accepted)
    return text


def parse_allow(name: str, value: str | None) -> frozenset[str]:
    """Validate a comma list of module names (``futurist,oslo_log``).

    :param name: the variable name, for the error message.
    :param value: the raw value, or ``None`` when unset.
    :returns: the module names (empty when unset or empty).
    :raises ConfigError: on an item that is not a dotted module name.
    """
    if value is None or value.strip() == "":
        return frozenset()
    items = [item.strip() for item in value.split(",")]
    for item in items:
        if not item or not all(
            part.isidentifier() and part.isascii() for part in item.split(".")
        ):
            raise _bad(
                name,
                value,
                "a comma list of importing module names such as "
                "'futurist,oslo_log.pipe_mutex'",
            )
    return frozenset(items)


#: shortest watchdog threshold (seconds): the hub is stamped ~8 times per
#: threshold, so 1e-9 would be a busy loop; field stalls start at 20 ms.
SECONDS_MIN = 0.01
#: longest (seconds): the longest timer the hub is ever handed.
SECONDS_MAX = HUB_MAX


def parse_seconds(name: str, value: object, off: bool = False) -> float | None:
    """Validate a duration in seconds such as ``0.1`` or ``60``.

    :param name: the variable or argument name, for the error message.
    :param value: the raw value (a string from the environment, or a
        number from an argument).
    :param off: whether ``None``, empty and ``off`` mean "disabled".
    :returns: seconds from :data:`SECONDS_MIN` to :data:`SECONDS_MAX`, or
        ``None`` (off).
    :raises ConfigError: on anything else.
    """
    accepted = (
        f"a positive number of seconds from {SECONDS_MIN:g} to "
        f"{SECONDS_MAX:g} such as '0.1' or '60'"
    )
    if off:
        accepted += ", or 'off' (or unset) to disable"
    if off and (
        value is None
        or (isinstance(value, str) and value.strip().lower() in ("", "off"))
    ):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _bad(name, value, accepted)
    try:
        seconds = float(value)
    except ValueError:
        raise _bad(name, value, accepted) from None
    if not (SECONDS_MIN <= seconds <= SECONDS_MAX):  # nan fails too
        raise _bad(name, value, accepted)
    return seconds


def parse_hub(name: str, value: str | None) -> str | None:
    """Validate ``EVENTLET_HUB`` the way eventlet will read it.

    eventlet only reads it when the hub is first used, long after
    patching, and then fails with a bare ``ImportError`` or "selected hub
    is not available"; checking it here fails before anything patches.

    :param name: the variable name, for the error message.
    :param value: the raw value, or ``None`` when unset.
    :returns: the value, or ``None`` when unset.
    :raises ConfigError: on a built-in hub this platform lacks, or a
        ``package.module[:Class]`` that cannot be found.
    """
    if value is None:
        return None
    text = value.strip()
    accepted = (
        ", ".join(repr(h) for h in HUBS)
        + " (those this platform supports), or an importable "
        "'package.module[:Class]'"
    )
    if text in HUBS:
        needs = HUBS[text]
        if needs:
            import select

            if not hasattr(select, needs):
                raise _bad(name, value, accepted)
        return text
    if "." in text or ":" in text:
        # Only the top-level package is looked up: finding a submodule
        # would import its parents, before patching.
        top = text.partition(":")[0].split(".")[0]
        import importlib.util

        try:
            found = importlib.util.find_spec(top) if top else None
        except (ImportError, ValueError):
            found = None
        if found is not None:
            return text
    raise _bad(name, value, accepted)


def project_var(project: str) -> str:
    """Return the legacy per-project switch, e.g. ``OS_NOVA_DISABLE_...``.

    :param project: a validated project name.
    :returns: the environment variable name.
    """
    return f"OS_{project.upper()}_DISABLE_EVENTLET_PATCHING"
