"""The detectors: one small module per hazard, each returning records.

Detectors never print or warn; :mod:`patchguard.warn` turns what they
find into warnings and :mod:`patchguard._state` keeps it.  ``audit`` runs
the start-up set around a patch (threads, stale references), ``advice``
the configuration checks, ``late`` the late/off-main patch calls,
``leaks`` the per-test leak checks of the pytest plugin.
"""
