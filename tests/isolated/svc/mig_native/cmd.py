"""Entry point of the native service."""

from mig_native import util


def main():
    """Start the service."""
    util.start(print).join()
