"""A service that only probes for eventlet: it can run native."""
