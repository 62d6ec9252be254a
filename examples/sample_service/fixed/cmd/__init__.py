import patchguard.bootstrap  # noqa: F401  (first line: nothing predates it)
