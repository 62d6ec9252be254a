"""warn.check / warn_if_unpatched against the real objects."""

import warnings

import patchguard.bootstrap  # noqa: F401
from patchguard import warn

warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    emitted = warn.warn_if_unpatched(["all"])  # MARK
findings = warn.check()
threading_findings = warn.check(["threading", "subprocess"])

from _emit import emit  # noqa: E402

emit(
    caught,
    check_all=[f.message for f in emitted],
    check_default=[f.message for f in findings],
    check_threading=[f.message for f in threading_findings],
)
