"""A bare monkey_patch() gets the advice findings too: an unpatched DB
driver imported later, and (with argv "debugger") a debugger."""

import sys
import warnings

sys.path.insert(0, __file__.rsplit("/", 1)[0] + "/fakes")
if sys.argv[1:] == ["debugger"]:
    sys.settrace(lambda *args: None)  # a trace function: a debugger
import patchguard  # noqa: F401, E402  (watching, as the pytest plugin does)

warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import eventlet

    eventlet.monkey_patch()  # MARK-bare
    import MySQLdb  # noqa: F401  MARK-mysql

sys.settrace(None)
from _emit import emit  # noqa: E402

emit(caught)
