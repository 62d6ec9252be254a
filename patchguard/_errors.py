"""The two exceptions patchguard raises.

Kept in a module of their own, with no imports, so that the bootstrap can
raise them before anything else is loaded.
"""


class ConfigError(ValueError):
    """A patchguard setting (environment variable or argument) is invalid.

    The message names the variable or argument, the bad value and the
    accepted values.  Nothing has been patched when it is raised.

    :ivar name: the variable or argument (``"PATCHGUARD_MODE"``,
        ``"--mode"``, ``"mode"``), or ``None``.
    :ivar value: the bad value as given, or ``None``.
    :ivar accepted: the accepted values or forms (may be empty).
    """

    def __init__(
        self,
        message: str,
        name: str | None = None,
        value: object = None,
        accepted: tuple[str, ...] = (),
    ) -> None:
        # Only the message goes to ``args``: str(), repr() and pickling
        # stay what they were; the structured fields ride in ``__dict__``
        # (which BaseException pickles too).
        super().__init__(message)
        self.name = name
        self.value = value
        self.accepted = tuple(accepted)


class PatchOrderError(RuntimeError):
    """Patching was attempted in the wrong order or in the wrong mode.

    Raised, for example, when anything calls ``eventlet.monkey_patch()`` in a
    process that patchguard put in native mode; the message names the
    caller's ``file:line``.
    """
