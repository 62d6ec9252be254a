"""Spawn readiness: which attribute paths of an object do not pickle.

oslo.service's threading backend starts its workers with multiprocessing's
``spawn`` method only when the service object *and* its configuration
pickle; otherwise it logs one line and forks (oslo.service 7a8adac, bug
2142122) — with every thread and lock of the parent.  Python 3.14 no
longer forks by default on Linux.  :func:`spawn_ready` walks the object
the way :mod:`pickle` does (``__reduce_ex__``: its state, arguments and
items) and names each innermost path that fails with pickle's own reason,
so the fix is one attribute, not a guess.
"""

from __future__ import annotations

import pickle

from patchguard import warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

#: stop descending past this depth (a path that deep is one finding).
_MAX_DEPTH = 40
_PROTOCOL = pickle.HIGHEST_PROTOCOL


def _reason(obj: object) -> str | None:
    try:
        pickle.dumps(obj, protocol=_PROTOCOL)
    except RecursionError:
        return "too deeply nested to pickle (RecursionError)"
    except Exception as exc:  # noqa: BLE001 - pickle raises anything
        return str(exc) or type(exc).__name__
    return None


def _children(obj: Any) -> Iterator[tuple[str, object]]:
    """Yield ``(path suffix, child)`` the way pickle would visit them."""
    if isinstance(obj, dict):
        for key, value in list(obj.items()):
            yield f"[{key!r}]", value
        return
    if isinstance(obj, (list, tuple)):
        for index, value in enumerate(obj):
            yield f"[{index}]", value
        return
    if isinstance(obj, (set, frozenset)):
        for value in list(obj):
            yield f"{{{value!r}}}", value
        return
    try:
        reduced = obj.__reduce_ex__(_PROTOCOL)
    except Exception:  # noqa: BLE001 - the object itself is the culprit
        return
    if not isinstance(reduced, tuple):
        return
    parts = list(reduced) + [None] * (5 - len(reduced))
    _func, args, state, listitems, dictitems = parts[:5]
    if isinstance(state, tuple) and len(state) == 2:
        # (__dict__, slots) as object.__reduce_ex__ gives for __slots__.
        for part in state:
            if isinstance(part, dict):
                for key, value in part.items():
                    yield f".{key}", value
    elif isinstance(state, dict):
        for key, value in state.items():
            yield f".{key}" if isinstance(key, str) else f"[{key!r}]", value
    elif state is not None:
        yield ".__getstate__()", state
    if isinstance(args, tuple):
        for index, value in enumerate(args):
            if isinstance(value, type) and index == 0:
                continue  # copyreg's class argument pickles by name
            yield f".__reduce__()[{index}]", value
    if listitems is not None:
        for index, value in enumerate(listitems):
            yield f"[{index}]", value
    if dictitems is not None:
        for key, value in dictitems:
            yield f"[{key!r}]", value


def _attributes(obj: object) -> Iterator[tuple[str, object]]:
    namespace = getattr(obj, "__dict__", None)
    if isinstance(namespace, dict):
        for key, value in list(namespace.items()):
            yield f".{key}", value
    for cls in type(obj).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if isinstance(slot, str) and hasattr(obj, slot):
                yield f".{slot}", getattr(obj, slot)


def _walk(
    obj: object,
    path: str,
    depth: int,
    seen: dict[int, object],
    out: list[tuple[str, str]],
) -> None:
    reason = _reason(obj)
    if reason is None:
        return
    if id(obj) in seen:
        return
    # Keep it alive while walking: the reduce tuples and state dicts are
    # temporaries, and a freed one's id() is soon reused by another object
    # (which would then be skipped as already seen).
    seen[id(obj)] = obj
    before = len(out)
    if depth < _MAX_DEPTH:
        for suffix, child in _children(obj):
            _walk(child, path + suffix, depth + 1, seen, out)
        if len(out) == before:
            # A custom __reduce__/__getstate__ that refuses as a whole
            # (oslo.config's ConfigOpts): look at the attributes it holds.
            # It may leave some out of its state (ConfigOpts skips its
            # argparse parser), so when its error quotes the original
            # failure ("Original error: ..."), only the paths failing
            # that way are the culprits.
            found: list[tuple[str, str]] = []
            for suffix, child in _attributes(obj):
                _walk(child, path + suffix, depth + 1, seen, found)
            quoted = [f for f in found if f[1] in reason and f[1] != reason]
            out.extend(quoted or found)
    if len(out) == before:
        # No part of it fails on its own: this object is the culprit.
        out.append((path, reason))


def spawn_ready(obj: object, name: str = "obj") -> list[warn.Finding]:
    """Name every attribute path of ``obj`` that does not pickle.

    :param obj: the object a spawned worker would receive.
    :param name: the name paths start with.
    :returns: one :class:`~patchguard.SpawnWarning` finding per path
        (``name.a._b[0]: cannot pickle '_io.TextIOWrapper' object``), or
        ``[]`` when ``obj`` pickles.
    """
    failures: list[tuple[str, str]] = []
    _walk(obj, name, 0, {}, failures)
    return [
        warn.Finding(
            warn.SpawnWarning,
            f"{path}: {reason}. A 'spawn' worker cannot receive it, so "
            f"oslo.service falls back to fork (threads and locks of the "
            f"parent included). Fix: create it in the worker (in "
            f"start()/run()), or drop it from the object's pickled state "
            f"(__getstate__/__reduce__).",
        )
        for path, reason in failures
    ]
