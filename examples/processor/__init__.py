"""A cloudkitty-style rating processor, runnable green or native.

``python -m examples.processor`` starts a local HTTP metric collector
(:mod:`.collector`), then runs the processor (:mod:`.service`) once per
mode: a ``cotyledon.ServiceManager`` with K workers, each fetching the N
metrics of its scopes concurrently through :func:`patchguard.executor.
executor` and rating them.  The only difference between the runs is the
environment variable ``PATCHGUARD_MODE``; the driver checks that both
rated every scope identically and prints each mode's throughput.
"""
