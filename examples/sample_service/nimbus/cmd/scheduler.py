"""The scheduler entry point (``python -m nimbus.cmd.scheduler``)."""

from nimbus import legacy  # noqa: F401


def main() -> None:
    """Start the service (not run by ``patchguard check``)."""
    raise SystemExit("the scheduler would start here")


if __name__ == "__main__":
    main()
