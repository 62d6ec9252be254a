"""A package without __main__ (not runnable)."""
