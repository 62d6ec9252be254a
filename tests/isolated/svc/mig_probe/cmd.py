"""Entry point with a guarded probe import."""

try:
    import eventlet
except ImportError:
    eventlet = None


def main():
    """Say whether eventlet is there."""
    print(eventlet is not None)
