"""faulthandler's watchdog is an OS thread that never runs Python."""

import faulthandler
import sys

faulthandler.dump_traceback_later(60)

import warnings  # noqa: E402

warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import patchguard.bootstrap  # noqa: F401

from _emit import emit  # noqa: E402

import patchguard  # noqa: E402

current = patchguard.state()
records = [
    *current.early_threads,
    *current.stale_refs,
    *current.foreign_threads,
    *current.findings,
]
emit(
    caught,
    texts=[str(r) for r in current.foreign_threads],
    argv=sys.argv[1:],
)
faulthandler.cancel_dump_traceback_later()
