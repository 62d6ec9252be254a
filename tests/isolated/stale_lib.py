"""A library module keeping natives where real code keeps them."""

import functools
import threading
import time
from socket import timeout  # noqa: F401  (never replaced: not stale)

LOCKS = {"db": threading.Lock(), "nested": {"cache": threading.Lock()}}
HANDLERS = [time.sleep]
STORE = threading.local()
EVENT = threading.Event()  # not stale: no false positive


class Registry:
    lock = threading.Lock()


class Retrying:
    """A class-based retry policy keeping the sleep it was given."""

    def __init__(self, sleep):
        self._sleep = sleep


POLICY = Retrying(time.sleep)


def retry(func):
    _time_sleep = time.sleep

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        _time_sleep(0)
        return func(*args, **kwargs)

    return wrapper


@retry
def connect():
    return "connected"


def backoff(delay=1, sleep=time.sleep):
    sleep(delay)
