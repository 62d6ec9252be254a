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
from patchguard._decision.values import (
    ALLOW_EVENTLET_VAR,
    DEFAULT_OPTIONS,
    DEFAULT_TASK_THRESHOLD,
    FALSE_VALUES,
    HUB_VAR,
    HUBS,
    LEGACY_VAR,
    MODE_VAR,
    MODES,
    OPTIONS,
    PATCH_VAR,
    PROJECT_VAR,
    PROJECT_VAR_PREFIX,
    PROJECT_VAR_SUFFIX,
    SHOWN,
    STDLIB_OPTIONS,
    STRICT_VAR,
    TRUE_VALUES,
    WATCHDOG_TASK_VAR,
    WATCHDOG_VAR,
    _accepted,
    _bad,
    parse_allow,
    parse_flag,
    parse_hub,
    parse_mode,
    parse_patch,
    parse_project,
    parse_seconds,
    project_var,
    show,
)
from patchguard._errors import ConfigError

#: The values' names and parsers live in :mod:`.values`; re-exported.
__all__ = [
    "ALLOW_EVENTLET_VAR",
    "DEFAULT_OPTIONS",
    "FALSE_VALUES",
    "LEGACY_VAR",
    "MODE_VAR",
    "MODES",
    "OPTIONS",
    "PATCH_VAR",
    "PROJECT_VAR",
    "PROJECT_VAR_PREFIX",
    "PROJECT_VAR_SUFFIX",
    "SHOWN",
    "STDLIB_OPTIONS",
    "STRICT_VAR",
    "TRUE_VALUES",
    "WATCHDOG_TASK_VAR",
    "WATCHDOG_VAR",
    "DEFAULT_TASK_THRESHOLD",
    "HUB_VAR",
    "HUBS",
    "parse_hub",
    "parse_seconds",
    "Decision",
    "decide",
    "parse_allow",
    "parse_flag",
    "parse_mode",
    "parse_patch",
    "parse_project",
    "project_var",
    "show",
]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


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


def decide(
    environ: Mapping[str, str],
    mode: object = None,
    patch: object = None,
    project: object = None,
    default: object = None,
    inferred: str | None = None,
) -> Decision:
    """Decide the mode from arguments, environment and detectors.

    Every input is validated before any is used, so a bad value anywhere
    raises even when a higher-precedence setting would have decided.

    :param environ: the environment (normally ``os.environ``).
    :param mode: ``"eventlet"``/``"native"`` forces the mode;
        ``None``/``"auto"`` leaves it to the environment.
    :param patch: patch list used when ``PATCHGUARD_PATCH`` is unset (see
        :func:`parse_patch`; validated even when the variable is set).
    :param project: project name used when ``PATCHGUARD_PROJECT`` is
        unset (validated even when it is set).
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
            raise _bad("default", default, _accepted(MODES[1:]), MODES[1:])

    # Arguments are validated even when the operator's variable wins:
    # a typo in code must not hide until the variable is unset.
    arg_options = parse_patch("patch", patch)
    env_patch = environ.get(PATCH_VAR)
    if env_patch is not None and env_patch.strip() != "":
        options = parse_patch(PATCH_VAR, env_patch)
    else:
        options = arg_options

    env_project = parse_project(PROJECT_VAR, environ.get(PROJECT_VAR))
    arg_project = parse_project("project", project)
    name = env_project or arg_project
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
            if var.startswith(PROJECT_VAR_PREFIX)
            and var.endswith(PROJECT_VAR_SUFFIX)
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
