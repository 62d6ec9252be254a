"""The watchdog's internals (the face is :mod:`patchguard.watchdog`).

``report`` (the records and their text), ``hub`` (eventlet hub stamps and
stall checks), ``tasks`` (thread-pool hooks, stuck tasks, saturation) and
``monitor`` (the one OS thread that looks at both).
"""
