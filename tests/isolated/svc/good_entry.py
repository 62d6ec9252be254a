"""A good entry point: the bootstrap first (check target)."""

import patchguard.bootstrap  # noqa: F401


def main():
    raise SystemExit("main() must not run under check")


if __name__ == "__main__":
    main()
