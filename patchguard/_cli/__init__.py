"""What the ``patchguard`` command needs beyond argument parsing.

``check`` audits an entry point, ``report`` renders a state as text.
"""
