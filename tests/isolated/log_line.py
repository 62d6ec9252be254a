"""The decision is logged once on logger 'patchguard' (logging first)."""

import logging
import sys

logging.basicConfig(
    level=logging.INFO, stream=sys.stdout, format="%(name)s|%(message)s"
)
import patchguard.bootstrap  # noqa: E402,F401
