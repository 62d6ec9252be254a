"""apply() twice: agreeing returns the same state; disagreeing raises."""

import patchguard

first = patchguard.apply()
second = patchguard.apply()
try:
    patchguard.apply(mode="native")
except patchguard.ConfigError as exc:
    conflict = str(exc)
else:
    conflict = None
try:
    patchguard.apply(patch="socket")
except patchguard.ConfigError as exc:
    conflict_patch = str(exc)
else:
    conflict_patch = None

from _emit import emit  # noqa: E402

emit(
    same=first is second,
    conflict=conflict,
    conflict_patch=conflict_patch,
)
