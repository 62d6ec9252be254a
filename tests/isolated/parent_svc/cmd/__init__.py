import patchguard.bootstrap  # noqa: F401
