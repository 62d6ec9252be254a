"""str()/repr() of every record in PatchState names what it is."""

import _thread
import threading
import time
from time import sleep

threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
_thread.start_new_thread(time.sleep, (30,))
time.sleep(0.05)

import warnings  # noqa: E402

warnings.simplefilter("ignore")
import patchguard.bootstrap  # noqa: F401, E402

import eventlet  # noqa: E402

eventlet.monkey_patch(thread=True, time=True)  # MARK-late
eventlet.monkey_patch(thread=False)  # MARK-undo

import patchguard  # noqa: E402
from _emit import emit  # noqa: E402

current = patchguard.state()
records = {
    "early_threads": current.early_threads,
    "stale_refs": current.stale_refs,
    "late_patches": current.late_patches,
    "foreign_threads": current.foreign_threads,
    "findings": current.findings,
}
emit(
    texts={
        name: [[str(r), repr(r)] for r in items]
        for name, items in records.items()
    },
    state_repr=repr(current),
    names=[sleep.__name__],
)
