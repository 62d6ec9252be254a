"""A stand-in for the MySQLdb C driver (the real one needs a server)."""


def connect(*args, **kwargs):
    raise ConnectionError("fake driver: no database here")
