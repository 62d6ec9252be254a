"""A process patched by a bare monkey_patch() (no bootstrap): subproc is
green on the hub's thread, native on a real OS thread."""

import json

import eventlet

eventlet.monkey_patch()

from eventlet.patcher import original

from patchguard import subproc

seen = {}


def on_native_thread():
    seen["thread"] = subproc.backend()


real = original("threading").Thread(target=on_native_thread)
real.start()
real.join()
result = subproc.run(["sh", "-c", "echo ok"], capture_output=True, text=True)
print(
    json.dumps(
        {
            "hub": subproc.backend(),
            "thread": seen["thread"],
            "out": result.stdout,
        }
    )
)
