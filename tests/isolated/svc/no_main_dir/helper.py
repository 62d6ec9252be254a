"""Not an entry point."""
