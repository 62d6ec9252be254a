"""The machinery behind :mod:`patchguard.subproc`.

``green`` waits for and talks to children through eventlet's hub.
"""
