"""Second importer of the green helper."""

from . import pool


def query(sql):
    """Run one query in the pool."""
    return pool.POOL.spawn(sql)
