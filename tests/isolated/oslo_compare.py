"""oslo.utils' deprecated warn_eventlet_not_patched after a full patch."""

import warnings

import patchguard.bootstrap  # noqa: F401

warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    from oslo_utils import eventletutils

    eventletutils.warn_eventlet_not_patched(["all"])
print(
    "OSLO",
    [str(w.message) for w in caught if "not patched" in str(w.message)],
)
