"""Walk where real code keeps objects, for the detectors that judge them.

A native lock or ``time.sleep`` is rarely a bare module global only: code
keeps them in module-level registries (``LOCKS = {"db": Lock()}``), as
class attributes (``class Registry: lock = Lock()``), as default argument
values (``def retry(sleep=time.sleep)``) and inside the closures of
decorators (``_time_sleep = time.sleep`` captured by a wrapper).  This
walker visits each of those places once per module and asks a ``match``
function about every object it meets; it is shared by the stale-reference,
multiprocessing and green-primitive detectors so each pays for one walk.

It is bounded so the bootstrap stays fast on a process with thousands of
modules: containers are looked into two levels deep and only their first
:data:`LIMIT` items; classes only when defined in the module itself.
"""

from __future__ import annotations

import sys
from functools import partial
from itertools import islice
from types import FunctionType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    Match = Callable[[object], "str | None"]

#: items looked at per container (module-level tables can be huge).
LIMIT = 64
_ATOMS = frozenset({str, int, float, bool, bytes, type(None), complex})
_CONTAINERS = frozenset({dict, list, tuple, set, frozenset})


def modules(names: Iterable[str]) -> list[tuple[str, object]]:
    """Return ``(name, module)`` once per module object.

    One module reachable under two names (``requests.packages.urllib3``
    and ``urllib3``) is listed once, under its own ``__name__`` when that
    name maps to it.

    :param names: keys of :data:`sys.modules`.
    :returns: the pairs, in the order given.
    """
    seen: set[int] = set()
    result: list[tuple[str, object]] = []
    table = sys.modules
    for name in names:
        module = table.get(name)
        if module is None or id(module) in seen:
            continue
        seen.add(id(module))
        own = getattr(module, "__name__", name)
        if own != name and isinstance(own, str) and table.get(own) is module:
            name = own
        result.append((name, module))
    return result


class Matcher:
    """Judge objects: one of a set of known objects, or an instance of a
    hazardous type.

    Subclasses count (``class Store(threading.local)``, the
    ``multiprocessing.Lock`` subclass of ``SemLock``); each type is judged
    once and cached, so the walk costs a dictionary lookup per object.

    :ivar originals: ``id(object)`` → (object, label).
    :ivar kinds: hazardous type → label.
    """

    def __init__(
        self,
        originals: dict[int, tuple[object, str]],
        kinds: dict[type, str],
    ) -> None:
        self.originals = originals
        self.kinds = kinds
        self.verdicts: dict[type, str | None] = dict(kinds)

    def judge(self, kind: type) -> str | None:
        """Return the label for instances of ``kind`` (cached), or None."""
        verdict = None
        for base, label in self.kinds.items():
            if issubclass(kind, base):
                verdict = label
                break
        self.verdicts[kind] = verdict
        return verdict

    def label(self, kind: type, verdict: str) -> str:
        """Return how an instance of ``kind`` judged ``verdict`` reads."""
        if kind in self.kinds:
            return f"instance of {verdict}"
        return f"instance of {kind.__module__}.{kind.__qualname__} ({verdict})"

    def __call__(self, value: object) -> str | None:
        entry = self.originals.get(id(value))
        if entry is not None and entry[0] is value:
            return entry[1]
        kind = type(value)
        try:
            verdict = self.verdicts[kind]
        except KeyError:
            verdict = self.judge(kind)
        except TypeError:  # a metaclass without __hash__
            return None
        return None if verdict is None else self.label(kind, verdict)


_UNSEEN = object()


def walk(names: Iterable[str], match: Matcher) -> list[tuple[str, str, str]]:
    """Visit every module-level place in ``names`` and collect matches.

    :param names: module names (aliases of one module are visited once).
    :param match: judges each object met.
    :returns: ``(module, where, label)`` triples; ``where`` reads like
        code: ``LOCK``, ``LOCKS['db']``, ``Registry.lock``,
        ``retry(sleep=)``, ``connect.<closure _time_sleep>``.
    """
    found: list[tuple[str, str, str]] = []
    # The top level is inlined (it meets every global of every module):
    # a call per object would triple the bootstrap's audit time.
    atoms = _ATOMS
    originals = match.originals.get
    verdicts = match.verdicts.get
    function = FunctionType
    for name, module in modules(names):
        namespace = getattr(module, "__dict__", None)
        if namespace is None:
            continue
        for attr, value in list(namespace.items()):
            kind = type(value)
            if kind in atoms:
                continue
            entry = originals(id(value))
            if entry is not None and entry[0] is value:
                found.append((name, attr, entry[1]))
                continue
            if kind is function:
                # Defaults are judged in the function's own module (an
                # imported function is visited where it is defined);
                # closures wherever the wrapper is bound, since a decorator
                # without functools.wraps keeps its own module's name.
                if value.__closure__ is not None or (
                    value.__module__ == name
                    and (value.__defaults__ or value.__kwdefaults__)
                ):
                    _function(found, name, attr, value, match)
                continue
            try:
                verdict = verdicts(kind, _UNSEEN)
            except TypeError:  # a metaclass without __hash__
                continue
            if verdict is _UNSEEN:
                verdict = match.judge(kind)
            if verdict is not None:
                found.append((name, attr, match.label(kind, str(verdict))))
            elif kind in _CONTAINERS or kind is partial:
                _inside(found, name, attr, value, match, 2)
            elif isinstance(value, type) and value.__module__ == name:
                _inside(found, name, attr, value, match, 2)
    return found


def _inside(
    found: list[tuple[str, str, str]],
    module: str,
    where: str,
    value: Any,
    match: Match,
    depth: int,
) -> None:
    kind = type(value)
    if kind is FunctionType:
        _function(found, module, where, value, match)
    elif kind in _CONTAINERS:
        if kind is dict:
            items: Iterable[tuple[Any, Any]] = islice(value.items(), LIMIT)
        elif kind is list or kind is tuple:
            items = islice(enumerate(value), LIMIT)
        else:
            items = (("...", v) for v in islice(value, LIMIT))
        for key, item in list(items):
            if type(item) in _ATOMS:
                continue
            place = f"{where}{{...}}" if key == "..." else f"{where}[{key!r}]"
            label = match(item)
            if label is not None:
                found.append((module, place, label))
            elif depth > 1:
                _inside(found, module, place, item, match, depth - 1)
    elif kind is partial:
        for item in (value.func, *value.args, *value.keywords.values()):
            label = match(item)
            if label is not None:
                found.append((module, f"{where}.<partial>", label))
    elif depth == 2 and isinstance(value, type) and value.__module__ == module:
        for attr, item in list(vars(value).items()):
            if type(item) in _ATOMS or attr[:2] == "__":
                continue
            place = f"{where}.{attr}"
            label = match(item)
            if label is not None:
                found.append((module, place, label))
            else:
                _inside(found, module, place, item, match, 1)


def _function(
    found: list[tuple[str, str, str]],
    module: str,
    where: str,
    func: FunctionType,
    match: Match,
) -> None:
    defaults = func.__defaults__
    if defaults:
        code = func.__code__
        first = code.co_argcount - len(defaults)
        for index, item in enumerate(defaults):
            if type(item) in _ATOMS:
                continue
            label = match(item)
            if label is not None:
                param = code.co_varnames[first + index]
                found.append((module, f"{where}({param}=)", label))
    kwdefaults = func.__kwdefaults__
    if kwdefaults:
        for param, item in kwdefaults.items():
            label = match(item)
            if label is not None:
                found.append((module, f"{where}(*, {param}=)", label))
    closure = func.__closure__
    if closure:
        names = func.__code__.co_freevars
        for cell_name, cell in zip(names, closure, strict=False):
            try:
                item = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if type(item) in _ATOMS:
                continue
            label = match(item)
            if label is not None:
                found.append((module, f"{where}.<closure {cell_name}>", label))
