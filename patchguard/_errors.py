"""The two exceptions patchguard raises.

Kept in a module of their own, with no imports, so that the bootstrap can
raise them before anything else is loaded.
"""


class ConfigError(ValueError):
    """A patchguard setting (environment variable or argument) is invalid.

    The message names the variable or argument, the bad value and the
    accepted values.  Nothing has been patched when it is raised.
    """


class PatchOrderError(RuntimeError):
    """Patching was attempted in the wrong order or in the wrong mode.

    Raised, for example, when anything calls ``eventlet.monkey_patch()`` in a
    process that patchguard put in native mode; the message names the
    caller's ``file:line``.
    """
