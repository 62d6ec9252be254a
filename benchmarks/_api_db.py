"""The benchmark's database: connect, create, fill (no patching here).

Kept apart from :mod:`_api_app` (which bootstraps patchguard on import) so
the benchmark's own process can fill the table without choosing a mode.
"""

from __future__ import annotations

import sqlite3
from typing import Any

QUERY = (
    "SELECT resource_id, counter_name, counter_volume, recorded_at "
    "FROM sample WHERE resource_id = {p} ORDER BY recorded_at DESC LIMIT 20"
)
#: resources and samples per resource in the benchmark's table.
RESOURCES = 50
SAMPLES = 40


def connect(url: str) -> tuple[Any, str]:
    """Open one DB-API connection to ``url``; return it and its paramstyle.

    :param url: ``mysql://user:password@host:port/db`` or
        ``sqlite:///path``.
    """
    if url.startswith("sqlite:///"):
        return sqlite3.connect(
            url[len("sqlite:///") :], check_same_thread=False
        ), "?"
    import pymysql

    rest = url[len("mysql://") :]
    credentials, _, rest = rest.rpartition("@")
    user, _, password = credentials.partition(":")
    address, _, db = rest.partition("/")
    host, _, port = address.partition(":")
    conn = pymysql.connect(
        host=host,
        port=int(port),
        user=user,
        password=password,
        database=db,
        autocommit=True,
    )
    return conn, "%s"


def populate(url: str) -> None:
    """Create and fill the ``sample`` table (idempotent)."""
    conn, p = connect(url)
    try:
        cur = conn.cursor()
        cur.execute("DROP TABLE IF EXISTS sample")
        cur.execute(
            "CREATE TABLE sample (id INTEGER PRIMARY KEY, "
            "resource_id VARCHAR(64), counter_name VARCHAR(64), "
            "counter_volume DOUBLE, recorded_at INTEGER)"
        )
        cur.execute(
            "CREATE INDEX sample_res ON sample (resource_id, recorded_at)"
        )
        rows = [
            (
                r * SAMPLES + s,
                f"res-{r:03d}",
                ("cpu", "memory", "disk.read", "net.in")[s % 4],
                float((r * 7919 + s * 104729) % 10000) / 100,
                1_700_000_000 + s * 60,
            )
            for r in range(RESOURCES)
            for s in range(SAMPLES)
        ]
        # Only the driver's placeholder is formatted in; values are bound.
        insert = f"INSERT INTO sample VALUES ({p}, {p}, {p}, {p}, {p})"  # noqa: S608
        cur.executemany(insert, rows)
        conn.commit()
    finally:
        conn.close()
