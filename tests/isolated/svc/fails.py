"""A run target that fails with its own traceback."""


def connect():
    raise ValueError("no database at db.example:3306")


connect()
