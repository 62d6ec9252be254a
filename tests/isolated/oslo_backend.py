"""oslo.service's backend follows the mode; argv[1] picks the order.

``after``: bootstrap, then ``import oslo_messaging`` (which selects a
backend at import time), then a 0.1 s FixedIntervalLoopingCall for 1 s.
``before``: ``import patchguard``, ``import oslo_messaging``, then the
bootstrap (which must refuse in native mode, naming where).
"""

import sys

scenario = sys.argv[1]
if scenario == "after":
    import patchguard.bootstrap  # noqa: F401
import patchguard

import oslo_messaging  # noqa: F401 - selects oslo.service's backend

if scenario == "before":
    try:
        import patchguard.bootstrap  # noqa: F401
    except patchguard.PatchOrderError as exc:
        print("REFUSED", exc)
        print("EVENTLET_PATCHED", sorted(patchguard.state().patched))
        sys.exit(3)

import time  # noqa: E402

from oslo_service import loopingcall  # noqa: E402

from _emit import emit  # noqa: E402

ticks = []
call = loopingcall.FixedIntervalLoopingCall(lambda: ticks.append(1))
call.start(interval=0.1)
time.sleep(1)
call.stop()
call.wait()
emit(ticks=len(ticks))
