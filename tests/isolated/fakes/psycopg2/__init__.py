"""A stand-in for psycopg2 without ``extensions``: eventlet cannot make it
green, as with a build that lacks wait-callback support."""
