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
:data:`LIMIT` (then :data:`INNER_LIMIT`) items; classes only when defined
in the module itself; objects of third-party classes one attribute deep.
"""

from __future__ import annotations

import sys
from functools import partial
from itertools import chain, islice
from types import FunctionType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping
    from typing import Any

#: items looked at per container (module-level tables can be huge), and
#: per container nested in one.
LIMIT = 64
INNER_LIMIT = 16
_ATOMS = frozenset({str, int, float, bool, bytes, type(None), complex})
_CONTAINERS = frozenset({dict, list, tuple, set, frozenset})
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"builtins"}
_NOT_OPENED = frozenset({"eventlet", "greenlet", "patchguard", "wrapt"})


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
        #: the types judged hazardous so far (``verdicts`` not None).
        self.flagged: set[type] = set(kinds)
        self._opens: dict[type, bool] = {}

    def opens(self, kind: type) -> bool:
        """Return True when instances of ``kind`` are looked into.

        Only classes of third-party and user code: a stdlib object's own
        internals (``queue.Queue().mutex``) are the stdlib's business, and
        eventlet patches what it uses.
        """
        known = self._opens.get(kind)
        if known is None:
            top = str(getattr(kind, "__module__", "") or "").split(".")[0]
            known = (
                top not in _STDLIB
                and top not in _NOT_OPENED
                and "__dict__" in getattr(kind, "__dict__", {})
            )
            self._opens[kind] = known
        return known

    def judge(self, kind: type) -> str | None:
        """Return the label for instances of ``kind`` (cached), or None."""
        verdict = None
        for base, label in self.kinds.items():
            if issubclass(kind, base):
                verdict = label
                break
        self.verdicts[kind] = verdict
        if verdict is not None:
            self.flagged.add(kind)
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
        if verdict is None or not self.accept(value):
            return None
        return self.label(kind, verdict)

    def accept(self, value: object) -> bool:
        """Return True when an instance of a hazardous type counts (the
        default; a subclass may judge its state, e.g. a lock held now).

        :param value: an object whose type was judged hazardous.
        """
        return True


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
    for name, module in modules(names):
        namespace = getattr(module, "__dict__", None)
        if namespace is not None:
            _namespace(found, name, "", list(namespace.items()), match)
    return found


def _namespace(
    found: list[tuple[str, str, str]],
    name: str,
    prefix: str,
    items: list[tuple[str, Any]],
    match: Matcher,
) -> None:
    # Inlined on purpose: this meets every global of every module; a
    # Python call per object would multiply the bootstrap's audit time.
    atoms = _ATOMS
    originals = match.originals.get
    verdicts = match.verdicts.get
    function = FunctionType
    for attr, value in items:
        kind = type(value)
        if kind in atoms:
            continue
        entry = originals(id(value))
        if entry is not None and entry[0] is value:
            found.append((name, prefix + attr, entry[1]))
            continue
        if kind is function:
            # Defaults are judged in the function's own module (an
            # imported function is visited where it is defined); closures
            # wherever the wrapper is bound, since a decorator without
            # functools.wraps keeps its own module's name.
            if value.__closure__ is not None or (
                value.__module__ == name
                and (value.__defaults__ or value.__kwdefaults__)
            ):
                _function(found, name, prefix + attr, value, match)
            continue
        try:
            verdict = verdicts(kind, _UNSEEN)
        except TypeError:  # a metaclass without __hash__
            continue
        if verdict is _UNSEEN:
            verdict = match.judge(kind)
        if verdict is not None:
            if match.accept(value):
                label = match.label(kind, str(verdict))
                found.append((name, prefix + attr, label))
        elif kind in _CONTAINERS or kind is partial:
            _inside(found, name, prefix + attr, value, match, 2)
        elif isinstance(value, type):
            if value.__module__ == name:
                _members(found, name, attr, value, match)
        elif match.opens(kind):
            _instance(found, name, attr, value, match)


def _worth(values: Collection[Any], match: Matcher, nested: bool) -> bool:
    """Tell, with C-level passes, whether ``values`` hold anything to
    report (or, when ``nested``, containers that do).

    Most module-level tables and class bodies hold nothing of interest;
    this keeps the per-item Python loop for the few that do.
    """
    if not match.originals.keys().isdisjoint(map(id, values)):
        return True
    # Set operations only (C-level): judge the types never seen, then ask
    # whether any present type is hazardous.
    try:
        kinds = set(map(type, values))
        kinds -= _ATOMS
        for kind in kinds.difference(match.verdicts):
            match.judge(kind)
    except TypeError:  # a metaclass without __hash__
        return True
    if not kinds.isdisjoint(match.flagged) or partial in kinds:
        return True
    inner = not kinds.isdisjoint(_CONTAINERS)
    if inner and nested:
        # One pass over every nested container's items, not one per
        # container: registries of tuples are common.
        containers = _CONTAINERS
        return _worth(
            list(
                chain.from_iterable(
                    _values(item, INNER_LIMIT)
                    for item in values
                    if type(item) in containers
                )
            ),
            match,
            False,
        )
    return False


def _values(container: Any, limit: int) -> Iterable[Any]:
    if type(container) is dict:
        return islice(container.values(), limit)
    return islice(container, limit)


def _members(
    found: list[tuple[str, str, str]],
    module: str,
    where: str,
    cls: type,
    match: Matcher,
) -> None:
    # Class attributes of the module's own classes (methods are not
    # entered, nor containers in class bodies: a class is met for every
    # class of every module, and each of those would cost a pass).
    _attributes(found, module, where, vars(cls), match, None)


def _attributes(
    found: list[tuple[str, str, str]],
    module: str,
    where: str,
    namespace: Mapping[str, Any],
    match: Matcher,
    limit: int | None,
) -> None:
    # One C-level pass first: most class bodies and objects hold nothing.
    if not _worth(list(islice(namespace.values(), limit)), match, False):
        return
    for attr, item in list(islice(namespace.items(), limit)):
        if type(item) in _ATOMS:
            continue
        label = match(item)
        if label is not None:
            found.append((module, f"{where}.{attr}", label))


def _inside(
    found: list[tuple[str, str, str]],
    module: str,
    where: str,
    value: Any,
    match: Matcher,
    depth: int,
) -> None:
    kind = type(value)
    if kind is partial:
        for item in (value.func, *value.args, *value.keywords.values()):
            label = match(item)
            if label is not None:
                found.append((module, f"{where}.<partial>", label))
        return
    limit = LIMIT if depth > 1 else INNER_LIMIT
    if not _worth(list(_values(value, limit)), match, depth > 1):
        return
    if kind is dict:
        items: Iterable[tuple[Any, Any]] = islice(value.items(), limit)
    elif kind is list or kind is tuple:
        items = islice(enumerate(value), limit)
    else:
        items = (("...", v) for v in islice(value, limit))
    for key, item in list(items):
        item_kind = type(item)
        if item_kind in _ATOMS:
            continue
        if item_kind in _CONTAINERS:
            if depth > 1:
                _inside(found, module, _key(where, key), item, match, 1)
            continue
        label = match(item)
        if label is not None:
            found.append((module, _key(where, key), label))


def _key(where: str, key: object) -> str:
    return f"{where}{{...}}" if key == "..." else f"{where}[{key!r}]"


def _instance(
    found: list[tuple[str, str, str]],
    module: str,
    where: str,
    value: Any,
    match: Matcher,
) -> None:
    # A module-level object of a library's class (a retry policy, a client,
    # a class-based decorator) holding ``self._sleep = time.sleep`` or a
    # lock made before patching: one level of its attributes.
    namespace = getattr(value, "__dict__", None)
    if type(namespace) is dict:
        _attributes(found, module, where, namespace, match, LIMIT)


def _function(
    found: list[tuple[str, str, str]],
    module: str,
    where: str,
    func: FunctionType,
    match: Matcher,
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
