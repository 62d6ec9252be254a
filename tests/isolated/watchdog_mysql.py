"""``SELECT SLEEP(1)`` through a MySQL driver in eventlet mode.

argv[1]: ``MySQLdb`` (the C driver: blocks the hub) or ``pymysql`` (pure
Python over the green socket: does not).  The server comes from
WD_DB_HOST/PORT/USER/PASSWORD/NAME; PATCHGUARD_WATCHDOG=0.5."""

import os
import sys

import patchguard.bootstrap  # noqa: F401
import watchdog_common

watchdog_common.collect()
import eventlet  # noqa: E402

driver = __import__(sys.argv[1])
ticks = []


def ticker():
    while True:
        ticks.append(1)
        eventlet.sleep(0.05)


def query():
    conn = driver.connect(
        host=os.environ["WD_DB_HOST"],
        port=int(os.environ["WD_DB_PORT"]),
        user=os.environ["WD_DB_USER"],
        password=os.environ["WD_DB_PASSWORD"],
        database=os.environ["WD_DB_NAME"],
    )
    cur = conn.cursor()
    cur.execute("SELECT SLEEP(1)")  # QUERY
    rows = cur.fetchall()
    conn.close()
    return rows


eventlet.spawn(ticker)
rows = eventlet.spawn(query).wait()
eventlet.sleep(0.3)
watchdog_common.emit(rows=[list(r) for r in rows], ticks=len(ticks))
