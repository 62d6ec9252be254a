"""The decision: environment and arguments in, one mode out, applied once.

``policy`` validates and decides (a pure function), ``hosts`` and
``debugger`` are the auto-detection inputs, ``apply`` patches (or refuses
to) and records the result in :mod:`patchguard._state`, ``log`` writes
the one start-up line.
"""
