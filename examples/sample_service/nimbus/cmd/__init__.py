# planted: the RPC layer is imported before the bootstrap, so its thread
# and its names predate patching.
from nimbus import rpc  # noqa: F401

import patchguard.bootstrap  # noqa: E402,F401
