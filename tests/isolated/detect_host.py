"""Simulate an embedding host, then bootstrap: argv[1] picks the host.

``mod_wsgi``: a built-in-like ``mod_wsgi`` module with ``process_group``
(what Apache inserts); ``mod_wsgi_pip``: the pip package's module, which
has none; ``uwsgi``: a built-in-like ``uwsgi`` module with ``opt``.
"""

import sys
import types

kind = sys.argv[1]
if kind == "mod_wsgi":
    mod = types.ModuleType("mod_wsgi")
    mod.process_group = "patchguard"
    mod.version = (5, 0, 0)
    sys.modules["mod_wsgi"] = mod
elif kind == "mod_wsgi_pip":
    mod = types.ModuleType("mod_wsgi")
    mod.__file__ = "/venv/lib/site-packages/mod_wsgi/__init__.py"
    sys.modules["mod_wsgi"] = mod
elif kind == "uwsgi":
    mod = types.ModuleType("uwsgi")
    mod.opt = {}
    mod.numproc = 2
    sys.modules["uwsgi"] = mod

import warnings  # noqa: E402

warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import patchguard.bootstrap  # noqa: F401

from _emit import emit  # noqa: E402

emit(caught)
