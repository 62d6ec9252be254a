"""Import this first: it puts the process in eventlet or native mode.

Put ``import patchguard.bootstrap`` as the first line of a service's
``cmd/__init__.py`` and ``tests/__init__.py``.  Importing it decides the
mode once from the environment (``PATCHGUARD_MODE``, ``PATCHGUARD_PATCH``,
``PATCHGUARD_PROJECT``, the legacy ``*_DISABLE_EVENTLET_PATCHING``
switches, and auto detection of WSGI hosts, lint/doc tools and debuggers),
applies ``eventlet.monkey_patch()`` in eventlet mode, and records the
result for :func:`patchguard.state`.

In native mode eventlet is not imported at all, and any later
``eventlet.monkey_patch()`` raises :class:`patchguard.PatchOrderError`.

Like gevent's ``monkey`` module, this module keeps its own imports to the
minimum: anything imported before patching would keep native references.
"""

from patchguard._decision.apply import apply

__all__ = ["apply"]

apply()
