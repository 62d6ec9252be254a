"""A script service on futurist's native ThreadPoolExecutor only."""

import futurist


def main():
    """Run one task natively."""
    with futurist.ThreadPoolExecutor(2) as pool:
        pool.submit(print, "native").result()
