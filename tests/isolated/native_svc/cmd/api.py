"""Entry point: bootstrap, then a library that imports eventlet."""

import patchguard.bootstrap  # noqa: F401
import native_svc.lib  # noqa: F401

if __name__ == "__main__":
    from _emit import emit

    emit()
