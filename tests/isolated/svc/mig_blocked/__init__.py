"""A service blocked by a green helper that two modules import."""
