"""Dual-mode test runs: the same tests once per mode, outcomes compared.

``results`` reads JUnit XML and subunit and prints the table, ``runner``
holds what both runners share (the modes, the environment per mode, the
loop), ``pytest_modes`` is ``pytest --patchguard-modes`` and ``command``
is ``patchguard parity -- COMMAND...``.
"""
