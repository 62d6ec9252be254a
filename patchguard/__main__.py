"""``python -m patchguard``: see :mod:`patchguard.cli`."""

from patchguard.cli import main

raise SystemExit(main())
