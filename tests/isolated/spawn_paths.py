"""spawn_ready on a cotyledon service holding an open file and a lock."""

import sys
import tempfile
import threading

import cotyledon

import patchguard
from _emit import emit


class Svc(cotyledon.Service):
    pass


service = Svc(0)
with tempfile.TemporaryFile("w") as log:
    service.conf = {"log": log, "lock": threading.Lock(), "n": 1}
    found = {
        f.message.split(": ")[0]: f.message
        for f in patchguard.spawn_ready(service, "service")
    }
emit(found=found, python=sys.version)
