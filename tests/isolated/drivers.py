"""DB drivers imported after an eventlet bootstrap, not made green."""

import sys
import warnings

sys.path.insert(0, __file__.rsplit("/", 1)[0] + "/fakes")
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import patchguard.bootstrap  # noqa: F401

    import MySQLdb  # noqa: F401  MARK-mysql
    import psycopg2  # noqa: F401  MARK-pg

from _emit import emit  # noqa: E402

emit(caught)
