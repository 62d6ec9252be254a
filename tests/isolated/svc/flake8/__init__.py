"""A stand-in named like a lint tool (auto detection's -m form)."""
