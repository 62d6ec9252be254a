"""The pytest plugin's settings: options, ini keys and how they resolve.

Command line > environment > ini file > default, and every value is
validated by patchguard so a bad one names the option, variable or ini key
it came from (pytest's own bool parser would not).
"""

from __future__ import annotations

import os

import pytest

from patchguard._decision import policy as _policy
from patchguard._errors import ConfigError

#: Environment variable for ``--patchguard-expect``.
EXPECT_VAR = "PATCHGUARD_EXPECT"
EXPECTS = ("eventlet", "native", "any")
MODES = ("eventlet", "native")


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


def add(parser: pytest.Parser) -> None:
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


def resolve(config: pytest.Config, options: object) -> Settings:
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
