"""A project's entry point that only bootstraps (project inferred: osvc)."""

import patchguard.bootstrap  # noqa: F401

from _emit import emit

emit()
