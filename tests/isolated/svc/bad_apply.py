"""A check target whose own bootstrap call is invalid."""

import patchguard

patchguard.apply(mode="purple")
