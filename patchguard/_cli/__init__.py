"""What the ``patchguard`` command needs beyond argument parsing.

``check`` audits an entry point, ``report`` renders a state as text.
"""

#: Exit statuses of ``report`` and ``check`` (never the target's).
EXIT_OK, EXIT_HAZARD, EXIT_USAGE = 0, 1, 2
