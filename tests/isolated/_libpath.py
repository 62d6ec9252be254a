"""Put the stand-in installed libraries (tests/isolated/libs) on sys.path."""

import os
import sys

sys.path.insert(
    0, os.path.join(os.path.dirname(__file__), "libs", "site-packages")
)
