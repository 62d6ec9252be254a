"""A check/run target in another directory, importing its sibling."""

import sibling  # noqa: F401 - found through sys.path[0], as Python does

print("ENTRY RAN")
