"""Imported by entry.py from the script's own directory."""

SIBLING = True
