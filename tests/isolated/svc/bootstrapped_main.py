"""An entry point that bootstraps itself, then reports its mode."""

import patchguard.bootstrap  # noqa: F401

import patchguard

if __name__ == "__main__":
    print("MODE", patchguard.state().mode, patchguard.state().decided_by)
