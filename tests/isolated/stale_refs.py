"""Names bound before the bootstrap keep the native objects."""

import ssl
from queue import SimpleQueue
from subprocess import Popen
from threading import Lock
from time import sleep

LOCK = Lock()
QUEUE = SimpleQueue()
CONTEXT = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)

import warnings  # noqa: E402

warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import patchguard.bootstrap  # noqa: F401

from _emit import emit  # noqa: E402

emit(caught, names=[sleep.__name__, Popen.__name__])
