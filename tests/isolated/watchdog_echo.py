"""A healthy green echo server under load, then an idle hub: no report.

20 client greenthreads each make 300 round trips to an eventlet echo
server on 127.0.0.1; PATCHGUARD_WATCHDOG=0.2."""

import patchguard.bootstrap  # noqa: F401
import watchdog_common

watchdog_common.collect()
import socket  # noqa: E402

import eventlet  # noqa: E402


def handle(conn):
    with conn:
        while True:
            data = conn.recv(4096)
            if not data:
                return
            conn.sendall(data)


def serve(listener):
    pool = eventlet.GreenPool(100)
    while True:
        conn, _ = listener.accept()
        pool.spawn_n(handle, conn)


def client(port, rounds):
    ok = 0
    with socket.create_connection(("127.0.0.1", port)) as s:
        for i in range(rounds):
            msg = b"ping %d\n" % i
            s.sendall(msg)
            if s.recv(4096) == msg:
                ok += 1
    return ok


listener = eventlet.listen(("127.0.0.1", 0))
port = listener.getsockname()[1]
server = eventlet.spawn(serve, listener)
clients = [eventlet.spawn(client, port, 300) for _ in range(20)]
ok = sum(c.wait() for c in clients)
eventlet.sleep(1.0)  # idle hub
server.kill()
watchdog_common.emit(ok=ok)
