"""A service that never touches eventlet: check --migration says native."""
