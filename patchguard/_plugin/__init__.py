"""What :mod:`patchguard.pytest_plugin` needs beyond its hooks.

``options`` resolves the settings, ``leakwatch`` is strict mode's
per-test thread check.
"""
