"""Read patchguard's settings and decide the mode: a pure function.

Everything here is validation and precedence; nothing is patched and nothing
but ``os`` is imported, so the decision can be made (and re-made by tests
and by :func:`patchguard.apply`) without side effects.

Precedence, first opinion wins::

    mode argument > PATCHGUARD_MODE (unless auto)
      > OS_<PROJECT>_DISABLE_EVENTLET_PATCHING (true: native, false:
        eventlet, as nova 34 and cinder 29 read it)
      > DISABLE_EVENTLET_PATCHING (true: native)
      > auto detection (WSGI host, lint/doc tool, debugger)
      > default argument > eventlet

The project comes from ``PATCHGUARD_PROJECT``, else the ``project``
argument, else the entry point's top-level package (``inferred``).  An
``OS_*_DISABLE_EVENTLET_PATCHING`` set for any other project is never
silently ignored: it is listed in :attr:`Decision.stray` for a finding.
"""

from __future__ import annotations

from patchguard._decision import debugger as _debugger
from patchguard._decision import hosts as _hosts
from patchguard._errors import ConfigError

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
_PROJECT_VAR_PREFIX, _PROJECT_VAR_SUFFIX = "OS_", "_DISABLE_EVENTLET_PATCHING"
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


class Decision:
    """The outcome of :func:`decide`: what to do and why.

    :ivar mode: ``"eventlet"`` or ``"native"``.
    :ivar options: eventlet option names to patch (empty in native mode).
    :ivar decided_by: the variable, argument or detector that decided.
    :ivar reason: one sentence a human can read.
    :ivar wsgi_host: ``"mod_wsgi"``, ``"uwsgi"`` or ``None``.
    :ivar tool: the lint/doc/config tool detected, or ``None``.
    :ivar debugger: the debugger detected, or ``None``.
    :ivar project: the project name, or ``None``.
    :ivar strict: whether strict mode was asked for.
    :ivar allow_eventlet: importer modules allowed to import eventlet in
        native mode (``PATCHGUARD_ALLOW_EVENTLET``).
    :ivar stray: ``OS_*_DISABLE_EVENTLET_PATCHING`` variables that are set
        but belong to no project this process is known as.
    """

    __slots__ = (
        "mode",
        "options",
        "decided_by",
        "reason",
        "wsgi_host",
        "tool",
        "debugger",
        "project",
        "strict",
        "watchdog",
        "watchdog_task",
        "allow_eventlet",
        "stray",
    )

    def __init__(
        self,
        mode: str,
        options: frozenset[str],
        decided_by: str,
        reason: str,
        wsgi_host: str | None = None,
        tool: str | None = None,
        debugger: str | None = None,
        project: str | None = None,
        strict: bool = False,
        watchdog: float | None = None,
        watchdog_task: float = DEFAULT_TASK_THRESHOLD,
        allow_eventlet: frozenset[str] = frozenset(),
        stray: tuple[str, ...] = (),
    ) -> None:
        #: hub stall threshold in seconds, ``None`` when the watchdog is off.
        self.watchdog = watchdog
        #: stuck-task threshold in seconds.
        self.watchdog_task = watchdog_task
        self.mode = mode
        self.options = options
        self.decided_by = decided_by
        self.reason = reason
        self.wsgi_host = wsgi_host
        self.tool = tool
        self.debugger = debugger
        self.project = project
        self.strict = strict
        self.allow_eventlet = allow_eventlet
        self.stray = stray

    def __repr__(self) -> str:
        return (
            f"Decision(mode={self.mode!r}, "
            f"options={sorted(self.options)!r}, "
            f"decided_by={self.decided_by!r})"
        )


def _accepted(values: Iterable[str]) -> str:
    return ", ".join(repr(v) for v in values)


def _bad(name: str, value: object, accepted: str) -> ConfigError:
    return ConfigError(
        f"{name}={value!r} is not valid; accepted values: {accepted}"
    )


def parse_mode(name: str, value: str | None) -> str:
    """Validate a mode value; ``None`` and empty mean ``"auto"``.

    :param name: the variable or argument name, for the error message.
    :param value: the raw value.
    :returns: ``"auto"``, ``"eventlet"`` or ``"native"``.
    :raises ConfigError: on any other value.
    """
    if value is None:
        return "auto"
    if not isinstance(value, str):
        raise _bad(name, value, _accepted(MODES))
    text = value.strip().lower()
    if text == "":
        return "auto"
    if text not in MODES:
        raise _bad(name, value, _accepted(MODES))
    return text


def parse_flag(name: str, value: str | None) -> bool | None:
    """Validate a boolean switch.

    :param name: the variable name, for the error message.
    :param value: the raw value, or ``None`` when unset.
    :returns: ``True``, ``False``, or ``None`` for unset/empty
        ("no opinion").
    :raises ConfigError: on a value that is neither true nor false.
    """
    if value is None:
        return None
    text = value.strip().lower()
    if text == "":
        return None
    if text in TRUE_VALUES:
        return True
    if text in FALSE_VALUES:
        return False
    raise _bad(
        name,
        value,
        f"true ({_accepted(TRUE_VALUES)}), false "
        f"({_accepted(FALSE_VALUES[:-1])}) or empty",
    )


_PATCH_ACCEPTED = (
    "'all' (the default), 'all' followed by exclusions such as "
    "'all,-thread' or opt-in additions such as 'all,MySQLdb', or a comma "
    "list of " + _accepted(OPTIONS)
)


def parse_patch(
    name: str, value: str | Iterable[str] | None
) -> frozenset[str]:
    """Validate a patch list such as ``all,-thread`` or ``socket,time``.

    :param name: the variable or argument name, for the error message.
    :param value: a comma-separated string, an iterable of names, or
        ``None``/empty for ``all``.
    :returns: the eventlet option names to patch (never empty).
    :raises ConfigError: on an unknown name, a misplaced ``all`` or ``-``,
        an empty item, or a list that leaves nothing to patch.
    """
    if value is None:
        return DEFAULT_OPTIONS
    if isinstance(value, str):
        raw = value
        items = [item.strip() for item in value.split(",")]
        if value.strip() == "":
            return DEFAULT_OPTIONS
    else:
        try:
            items = [str(item).strip() for item in value]
        except TypeError:
            raise _bad(name, value, _PATCH_ACCEPTED) from None
        raw = ",".join(items)
    lowered = [item.lower() for item in items]
    if lowered[0] == "all":
        chosen = set(DEFAULT_OPTIONS)
        for item in lowered[1:]:
            excluded = item[:1] == "-"
            option = _BY_LOWER.get(item[1:] if excluded else item)
            if option is None:
                raise _bad(name, raw, _PATCH_ACCEPTED)
            if excluded:
                chosen.discard(option)
            else:
                # ``all,MySQLdb``: add one of eventlet's opt-in patches.
                chosen.add(option)
    else:
        chosen = set()
        for item in lowered:
            option = _BY_LOWER.get(item)
            if option is None:
                raise _bad(name, raw, _PATCH_ACCEPTED)
            chosen.add(option)
    if not chosen:
        raise ConfigError(
            f"{name}={raw!r} leaves nothing to patch; "
            f"use {MODE_VAR}=native for an unpatched process"
        )
    return frozenset(chosen)


def parse_project(name: str, value: str | None) -> str | None:
    """Validate a project name (letters, digits, ``_``; starts with a letter).

    :param name: the variable or argument name, for the error message.
    :param value: the raw value.
    :returns: the stripped name, or ``None`` when unset or empty.
    :raises ConfigError: when it cannot form an environment variable name.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(name, value, "a project name such as 'nova'")
    text = value.strip()
    if text == "":
        return None
    if not (
        text.isascii()
        and text[0].isalpha()
        and text.replace("_", "").isalnum()
    ):
        raise _bad(
            name,
            value,
            "a project name such as 'nova' (ASCII letters, digits and '_', "
            "starting with a letter)",
        )
    return text


def parse_seconds(name: str, value: object, off: bool = False) -> float | None:
    """Validate a duration in seconds such as ``0.1`` or ``60``.

    :param name: the variable or argument name, for the error message.
    :param value: the raw value (a string from the environment, or a
        number from an argument).
    :param off: whether ``None``, empty and ``off`` mean "disabled".
    :returns: a positive finite number of seconds, or ``None`` (off).
    :raises ConfigError: on anything else.
    """
    accepted = "a positive number of seconds such as '0.1' or '60'"
    if off:
        accepted += ", or 'off' (or unset) to disable"
    if off and (
        value is None
        or (isinstance(value, str) and value.strip().lower() in ("", "off"))
    ):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _bad(name, _short(value), accepted)
    try:
        seconds = float(value)
    except ValueError:
        raise _bad(name, _short(value), accepted) from None
    if not (0 < seconds < float("inf")):
        raise _bad(name, _short(value), accepted)
    return seconds


def _short(value: object) -> object:
    if isinstance(value, str) and len(value) > 60:
        return value[:57] + "..."
    return value


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
                value if len(value) <= 80 else value[:77] + "...",
                "a comma list of importing module names such as "
                "'futurist,oslo_log.pipe_mutex'",
            )
    return frozenset(items)


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
    raise _bad(name, value[:80], accepted)


def project_var(project: str) -> str:
    """Return the legacy per-project switch, e.g. ``OS_NOVA_DISABLE_...``.

    :param project: a validated project name.
    :returns: the environment variable name.
    """
    return f"OS_{project.upper()}_DISABLE_EVENTLET_PATCHING"


def decide(
    environ: Mapping[str, str],
    mode: str | None = None,
    patch: str | Iterable[str] | None = None,
    project: str | None = None,
    default: str | None = None,
    inferred: str | None = None,
) -> Decision:
    """Decide the mode from arguments, environment and detectors.

    Every input is validated before any is used, so a bad value anywhere
    raises even when a higher-precedence setting would have decided.

    :param environ: the environment (normally ``os.environ``).
    :param mode: ``"eventlet"``/``"native"`` forces the mode;
        ``None``/``"auto"`` leaves it to the environment.
    :param patch: patch list used when ``PATCHGUARD_PATCH`` is unset.
    :param project: project name used when ``PATCHGUARD_PROJECT`` is unset.
    :param default: the entry point's fallback mode, replacing eventlet.
    :param inferred: the entry point's top-level package, used as the
        project when neither ``PATCHGUARD_PROJECT`` nor ``project`` names
        one and its ``OS_<PACKAGE>_DISABLE_EVENTLET_PATCHING`` is set.
    :returns: the decision.
    :raises ConfigError: on any invalid setting.
    """
    arg_mode = parse_mode("mode", mode)
    env_mode = parse_mode(MODE_VAR, environ.get(MODE_VAR))
    if default is None:
        default_mode = None
    else:
        default_mode = parse_mode("default", default)
        if default_mode == "auto":
            raise _bad("default", default, _accepted(MODES[1:]))

    env_patch = environ.get(PATCH_VAR)
    if env_patch is not None and env_patch.strip() != "":
        options = parse_patch(PATCH_VAR, env_patch)
    else:
        options = parse_patch("patch", patch)

    env_project = parse_project(PROJECT_VAR, environ.get(PROJECT_VAR))
    name = env_project or parse_project("project", project)
    if name is None and inferred is not None:
        # A package name is a valid project name unless it is not an
        # identifier-like word; then nothing can be inferred.
        try:
            guess = parse_project("inferred project", inferred)
        except ConfigError:
            guess = None
        if guess is not None and project_var(guess) in environ:
            name = guess
    project_flag = None
    project_name_var = None
    if name is not None:
        project_name_var = project_var(name)
        project_flag = parse_flag(
            project_name_var, environ.get(project_name_var)
        )
    legacy_flag = parse_flag(LEGACY_VAR, environ.get(LEGACY_VAR))
    strict = bool(parse_flag(STRICT_VAR, environ.get(STRICT_VAR)))
    watchdog = parse_seconds(WATCHDOG_VAR, environ.get(WATCHDOG_VAR), off=True)
    raw_task = environ.get(WATCHDOG_TASK_VAR)
    if raw_task is None or raw_task.strip() == "":
        watchdog_task = DEFAULT_TASK_THRESHOLD
    else:
        watchdog_task = parse_seconds(WATCHDOG_TASK_VAR, raw_task) or 0.0
    allow = parse_allow(ALLOW_EVENTLET_VAR, environ.get(ALLOW_EVENTLET_VAR))
    stray = tuple(
        sorted(
            var
            for var, value in environ.items()
            if var.startswith(_PROJECT_VAR_PREFIX)
            and var.endswith(_PROJECT_VAR_SUFFIX)
            and value.strip() != ""
        )
        if name is None
        else ()
    )
    parse_hub(HUB_VAR, environ.get(HUB_VAR))

    host = _hosts.wsgi_host()
    tool = _hosts.tool()
    debugger = _debugger.detect()

    def made(chosen: str, by: str, reason: str) -> Decision:
        opts = options if chosen == "eventlet" else frozenset()
        return Decision(
            chosen,
            opts,
            by,
            reason,
            wsgi_host=host,
            tool=tool,
            debugger=debugger,
            project=name,
            strict=strict,
            watchdog=watchdog,
            watchdog_task=watchdog_task,
            allow_eventlet=allow,
            stray=stray,
        )

    if arg_mode != "auto":
        return made(
            arg_mode, "argument", f"apply(mode={arg_mode!r}) forced it"
        )
    if env_mode != "auto":
        return made(env_mode, MODE_VAR, f"{MODE_VAR}={env_mode} forced it")
    if project_flag is not None and project_name_var is not None:
        # The projects' own reading (nova 34, cinder 29): a false spelling
        # asks for eventlet explicitly; only empty means "no opinion".
        if project_flag:
            return made(
                "native",
                project_name_var,
                f"{project_name_var} is set to true",
            )
        return made(
            "eventlet",
            project_name_var,
            f"{project_name_var} is set to false: eventlet, as {name} "
            f"itself reads it",
        )
    if legacy_flag:
        return made("native", LEGACY_VAR, f"{LEGACY_VAR} is set to true")
    if host is not None:
        return made(
            "native",
            f"wsgi:{host}",
            f"hosted by {host}: green background work would only run "
            "while a request yields",
        )
    if tool is not None:
        return made(
            "native",
            f"tool:{tool}",
            f"running under {tool}, a lint/doc/config tool that only "
            "imports the code",
        )
    if debugger is not None:
        return made(
            "native",
            f"debugger:{debugger}",
            f"running under the {debugger} debugger, whose own threads "
            f"break under eventlet; set {MODE_VAR}=eventlet to force "
            "eventlet",
        )
    if default_mode is not None:
        return made(
            default_mode,
            "entry-point default",
            f"the entry point's default is {default_mode}",
        )
    return made("eventlet", "default", "nothing asked for native mode")
