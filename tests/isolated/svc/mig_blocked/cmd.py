"""Entry point: yields once itself, and imports api and db."""

import time

from mig_blocked import api, db  # noqa: F401


def main():
    """Start the service."""
    time.sleep(0)
