"""``python -m patchguard``: see :mod:`patchguard.cli`."""

from patchguard.cli import main_exit

main_exit()
