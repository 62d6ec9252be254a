"""The pools under :mod:`patchguard.executor`: green and off-hub native."""
