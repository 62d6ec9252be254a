"""The hooks: how patchguard watches a process it did not start.

``importhook`` runs callbacks when a module is first imported,
``threadwatch`` records every ``Thread.start``, ``eventlet`` wraps
``eventlet.monkey_patch`` so a bare call is audited, and
``logging_locks`` makes logging's locks safe for both worlds.
"""
