"""state().modules judges time through a library's wrapper."""

import patchguard.bootstrap  # noqa: F401
import wrapper_lib  # noqa: F401
from _emit import emit

emit()
