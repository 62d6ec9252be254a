"""A check target that prints and logs at import (both go to stderr)."""

import logging
import sys

print("NOISE-PRINT")
sys.stdout.write("NOISE-WRITE\n")
logging.getLogger("noisy").warning("NOISE-LOG")
