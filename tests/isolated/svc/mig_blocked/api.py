"""First importer of the green helper."""

from mig_blocked import pool


def handle(request):
    """Serve one request later."""
    return pool.later(request)
