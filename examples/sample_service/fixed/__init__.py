"""The same service with the bootstrap first: what the report asks for."""
