"""Plain-data codec for values crossing between the checker and the solution.

Only values built from an allow-list of types travel as data: the receiver rebuilds them
with its own constructors, so an object from the solution (say, one whose ``__eq__`` always
returns True) can never reach the checker's comparisons. Anything else travels as a handle:
``{"$h": n}`` names an object the sender keeps, ``{"$r": n}`` hands back one the receiver
exported earlier; a value wrapped in ``AsHandle`` travels as a handle whatever it is. Decoding
never calls code chosen by the sender.

Instances of plain Python classes from modules both processes import identically (a dataclass of
an installed library, of the standard library) may travel by value, ``{"$obj": [module, qualname,
state]}``, but only from modules the parent allow-listed (``share_by_value``; none by default), and
never from the solution's own module: a class the solution wrote must not decide equality in the
checker, so its instances stay handles. The receiver rebuilds such an object with *its* copy of
the class, by ``object.__new__`` and the slot descriptors / instance ``__dict__``, calling no
``__init__``, ``__setstate__`` or ``__setattr__``; it imports the module only if it is allowed.
"""

from __future__ import annotations

import abc
import base64
import datetime as _dt
import decimal
import fractions
import importlib
import math
import sys
import types
from collections import Counter, OrderedDict, defaultdict, deque
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 400

_SCALARS = (type(None), bool, int, str)
_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made by a class statement, not a C type
_PICKLING_HOOKS = ("__reduce__", "__reduce_ex__", "__getstate__", "__setstate__", "__getnewargs__",
                   "__getnewargs_ex__")
# never by value: the runtime's own classes (a forged Remote!), scripts, the tests' own namespace
_RUNTIME_PACKAGE = __name__.rpartition(".")[0]  # ``_orps_runtime`` in the sandbox
_NEVER_BY_VALUE = ("_orps_runtime", "__main__", "__orps_test__", "builtins")
_BUILTIN_FACTORIES = {"int": int, "float": float, "str": str, "list": list, "dict": dict, "set": set,
                      "tuple": tuple, "bool": bool, "bytes": bytes, "frozenset": frozenset}


class CodecError(Exception):
    """A value cannot cross the boundary (too deep, or a malformed encoding)."""


class AsHandle:
    """Wraps a value that must travel as a handle even if it looks like data (a module, an iterator)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class Codec:
    """Encodes values for the peer and decodes the peer's values.

    ``export(obj) -> int`` registers a local object and returns its handle id;
    ``resolve(n)`` returns the local object exported as ``n``; ``remote(n)`` returns a
    proxy for the peer's object ``n``; ``remote_id(obj)`` returns the id if ``obj`` is
    such a proxy, else None.
    """

    def __init__(self, *, export: Callable[[Any], int], resolve: Callable[[int], Any],
                 remote: Callable[[int], Any], remote_id: Callable[[Any], int | None]) -> None:
        self._export, self._resolve, self._remote, self._remote_id = export, resolve, remote, remote_id
        self._by_value: tuple[str, ...] = ()
        self._own_module = ""

    def share_by_value(self, modules: list[str], *, own_module: str) -> None:
        """Let instances of plain classes from ``modules`` (names or package prefixes) travel by
        value, both ways; ``own_module`` (the solution's) never does, whatever the list says."""
        self._by_value = tuple(m for m in modules if type(m) is str and m)
        self._own_module = own_module

    def travels_by_value(self, obj: Any) -> bool:
        """Whether ``obj`` would be sent as ``$obj`` (so a callee's changes to it can be mirrored)."""
        return bool(self._by_value) and self._shareable(type(obj))

    def _shareable(self, kind: type) -> bool:
        module = kind.__dict__.get("__module__")
        return (type(module) is str and self._module_allowed(module) and "<" not in kind.__qualname__
                and _plain_class(kind))

    def _module_allowed(self, module: str) -> bool:
        if (module == self._own_module or module.split(".")[0] in _NEVER_BY_VALUE
                or module == _RUNTIME_PACKAGE or module.startswith(_RUNTIME_PACKAGE + ".")):
            return False
        return any(module == p or module.startswith(p + ".") for p in self._by_value)

    # -- encoding ---------------------------------------------------------------------------
    def encode(self, obj: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise CodecError("value is nested too deeply to send")
        kind = type(obj)
        if kind in _SCALARS:
            return obj
        if kind is float:
            return obj if math.isfinite(obj) else {"$f": repr(obj)}
        ref = self._remote_id(obj)
        if ref is not None:
            return {"$r": ref}
        if kind is list:
            return [self.encode(x, depth + 1) for x in obj]
        encoder = _ENCODERS.get(kind)
        if encoder is not None:
            return encoder(self, obj, depth + 1)
        if self._by_value and self._shareable(kind):
            return {"$obj": [kind.__module__, kind.__qualname__, self._state(obj, kind, depth + 1)]}
        if isinstance(obj, tuple) and hasattr(kind, "_fields") and kind.__bases__ == (tuple,):
            return {"$nt": [kind.__name__, list(kind._fields), [self.encode(x, depth + 1) for x in obj]]}
        if kind is type and obj.__module__ == "builtins" and obj.__name__ in _BUILTIN_FACTORIES:
            return {"$type": obj.__name__}
        module = getattr(kind, "__module__", "") or ""
        if module.startswith("numpy") and "numpy" in sys.modules:
            encoded = _encode_numpy(self, obj, depth + 1)
            if encoded is not None:
                return encoded
        if module.startswith("pandas") and "pandas" in sys.modules:
            encoded = _encode_pandas(self, obj, depth + 1)
            if encoded is not None:
                return encoded
        return {"$h": self._export(obj)}

    def _seq(self, items: Any, depth: int) -> list[Any]:
        return [self.encode(x, depth) for x in items]

    def _pairs(self, mapping: Any, depth: int) -> list[list[Any]]:
        return [[self.encode(k, depth), self.encode(v, depth)] for k, v in mapping.items()]

    def _state(self, obj: Any, kind: type, depth: int) -> list[list[Any]]:
        return [[name, self.encode(value, depth)] for name, value in object_state(obj, kind)]

    # -- decoding ---------------------------------------------------------------------------
    def decode(self, data: Any, depth: int = 0) -> Any:
        """The peer's value rebuilt here; whatever the peer sent, a ``CodecError`` at worst (a value
        nested past what this interpreter's stack takes, too, within ``MAX_DEPTH``)."""
        if depth > MAX_DEPTH:
            raise CodecError("value is nested too deeply to receive")
        if data is None or type(data) in (bool, int, float, str):
            return data
        if type(data) is list:
            try:
                return [self.decode(x, depth + 1) for x in data]
            except RecursionError:
                raise CodecError("value is nested too deeply to receive") from None
        if type(data) is not dict or len(data) != 1:
            raise CodecError(f"malformed value: {str(data)[:80]}")
        ((tag, body),) = data.items()
        decoder = _DECODERS.get(tag)
        if decoder is None:
            raise CodecError(f"unknown value tag {tag!r}")
        try:
            return decoder(self, body, depth + 1)
        except CodecError:
            raise
        except Exception as exc:  # a malformed body from an untrusted peer
            raise CodecError(f"malformed {tag} value: {exc}") from None

    def _items(self, body: Any, depth: int) -> list[Any]:
        if type(body) is not list:
            raise CodecError("expected a list")
        return [self.decode(x, depth) for x in body]

    def _shared_class(self, module: Any, qualname: Any) -> type:
        """The receiver's own class ``module.qualname``, if that module may send its objects by value.
        The module is imported only then, and the name is looked up in namespaces, never through
        a ``__getattr__``."""
        if type(module) is not str or type(qualname) is not str:
            raise CodecError("malformed $obj class name")
        where = f"{module[:100]}.{qualname[:100]}"
        if not self._module_allowed(module):
            raise CodecError(f"{where}: objects of this module may not travel by value")
        found: Any = sys.modules.get(module)
        if found is None:
            try:
                found = importlib.import_module(module)
            except Exception as exc:
                raise CodecError(f"{where}: cannot import the module ({type(exc).__name__})") from None
        for part in qualname.split("."):
            space = getattr(found, "__dict__", None) if isinstance(found, (types.ModuleType, type)) else None
            try:
                found = space[part] if space is not None else None
            except Exception:
                found = None
            if found is None:
                raise CodecError(f"{where}: no such class")
        if not (isinstance(found, type) and found.__dict__.get("__module__") == module
                and found.__qualname__ == qualname and self._shareable(found)):
            raise CodecError(f"{where}: not a plain class that may travel by value")
        return found

    def _decode_pairs(self, body: Any, depth: int) -> list[tuple[Any, Any]]:
        if type(body) is not list:
            raise CodecError("expected a list of pairs")
        return [(self.decode(k, depth), self.decode(v, depth)) for k, v in body]


def _plain_class(kind: type) -> bool:
    """A class whose instances are fully described by their slots and ``__dict__``: made by class
    statements (no C base with hidden state, bar layout-free ones), with a plain metaclass, and
    no pickling hooks of its own (a class that customises pickling has state elsewhere) but the
    ones ``dataclass(frozen=True, slots=True)`` writes, which pickle exactly the slots."""
    if type(kind) not in (type, abc.ABCMeta):
        return False
    for base in kind.__mro__[:-1]:
        if not base.__flags__ & _HEAPTYPE and (base.__basicsize__ != object.__basicsize__ or base.__itemsize__):
            return False
    dataclasses = sys.modules.get("dataclasses")
    generated = {getattr(dataclasses, "_dataclass_getstate", None), getattr(dataclasses, "_dataclass_setstate", None)}
    return all(getattr(kind, hook, None) in (getattr(object, hook, None), *generated) for hook in _PICKLING_HOOKS)


def _slots(kind: type) -> dict[str, Any]:
    """The slot descriptors of ``kind`` and its bases, by (mangled) name."""
    found: dict[str, Any] = {}
    for base in reversed(kind.__mro__):
        for name, member in base.__dict__.items():
            if type(member) is types.MemberDescriptorType and member.__objclass__ is base:
                found[name] = member
    return found


def _instance_dict(obj: Any) -> dict[str, Any] | None:
    try:
        found = object.__getattribute__(obj, "__dict__")
    except AttributeError:
        return None
    return found if type(found) is dict else None


def object_state(obj: Any, kind: type) -> list[tuple[str, Any]]:
    """An instance's slots (those set) and ``__dict__`` entries, read without its own methods."""
    state: list[tuple[str, Any]] = []
    for name, member in _slots(kind).items():
        try:
            state.append((name, member.__get__(obj, kind)))
        except AttributeError:  # an unset slot
            pass
    state += [(str(k), v) for k, v in (_instance_dict(obj) or {}).items()]
    return state


def set_object_state(obj: Any, state: list[tuple[str, Any]], *, replace: bool = False) -> None:
    """Put ``state`` into ``obj`` through the slot descriptors and the instance ``__dict__`` (no
    ``__setattr__``); ``replace`` drops what ``obj`` held before (mirroring a callee's changes)."""
    slots, attrs = _slots(type(obj)), _instance_dict(obj)
    if replace:
        for member in slots.values():
            try:
                member.__delete__(obj)
            except AttributeError:
                pass
        if attrs is not None:
            attrs.clear()
    for name, value in state:
        if type(name) is not str:
            raise CodecError("malformed $obj state")
        if name in slots:
            slots[name].__set__(obj, value)
        elif attrs is not None:
            attrs[name] = value
        else:
            raise CodecError(f"{type(obj).__qualname__} has no attribute slot {name[:80]!r}")


def _decode_object(c: Codec, body: Any, d: int) -> Any:
    module, qualname, state = body
    cls = c._shared_class(module, qualname)
    if type(state) is not list:
        raise CodecError("malformed $obj state")
    obj: Any = object.__new__(cls)
    set_object_state(obj, [(name, c.decode(value, d)) for name, value in state])
    return obj


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


_ENCODERS: dict[type, Callable[[Codec, Any, int], Any]] = {
    tuple: lambda c, o, d: {"$t": c._seq(o, d)},
    dict: lambda c, o, d: {"$d": c._pairs(o, d)},
    set: lambda c, o, d: {"$s": c._seq(o, d)},
    frozenset: lambda c, o, d: {"$fs": c._seq(o, d)},
    bytes: lambda c, o, d: {"$b": _b64(o)},
    bytearray: lambda c, o, d: {"$ba": _b64(bytes(o))},
    complex: lambda c, o, d: {"$c": [repr(o.real), repr(o.imag)]},
    range: lambda c, o, d: {"$range": [o.start, o.stop, o.step]},
    decimal.Decimal: lambda c, o, d: {"$dec": str(o)},
    fractions.Fraction: lambda c, o, d: {"$fr": [o.numerator, o.denominator]},
    _dt.datetime: lambda c, o, d: {"$dt": o.isoformat()},
    _dt.date: lambda c, o, d: {"$date": o.isoformat()},
    _dt.time: lambda c, o, d: {"$time": o.isoformat()},
    _dt.timedelta: lambda c, o, d: {"$td": [o.days, o.seconds, o.microseconds]},
    OrderedDict: lambda c, o, d: {"$od": c._pairs(o, d)},
    Counter: lambda c, o, d: {"$ctr": c._pairs(o, d)},
    defaultdict: lambda c, o, d: {"$dd": [_factory_name(o.default_factory), c._pairs(o, d)]},
    deque: lambda c, o, d: {"$dq": [o.maxlen, c._seq(o, d)]},
    AsHandle: lambda c, o, d: {"$h": c._export(o.value)},
}


def _factory_name(factory: Any) -> str | None:
    if factory is None:
        return None
    name = str(getattr(factory, "__name__", ""))
    return name if _BUILTIN_FACTORIES.get(name) is factory else "?"


def _decode_namedtuple(c: Codec, body: Any, d: int) -> Any:
    from collections import namedtuple

    name, fields, values = body
    cls = namedtuple(str(name), [str(f) for f in fields])  # type: ignore[misc]
    return cls(*c._items(values, d))


def _decode_defaultdict(c: Codec, body: Any, d: int) -> Any:
    name, pairs = body
    factory = _BUILTIN_FACTORIES.get(name) if name else None
    if name and factory is None:  # a factory we cannot rebuild: keep the contents
        return dict(c._decode_pairs(pairs, d))
    return defaultdict(factory, c._decode_pairs(pairs, d))


def _decode_float(c: Codec, body: Any, d: int) -> float:
    if body not in ("nan", "inf", "-inf"):
        raise CodecError("bad float")
    return float(body)


_DECODERS: dict[str, Callable[[Codec, Any, int], Any]] = {
    "$f": _decode_float,
    "$t": lambda c, b, d: tuple(c._items(b, d)),
    "$d": lambda c, b, d: dict(c._decode_pairs(b, d)),
    "$s": lambda c, b, d: set(c._items(b, d)),
    "$fs": lambda c, b, d: frozenset(c._items(b, d)),
    "$b": lambda c, b, d: base64.b64decode(str(b), validate=True),
    "$ba": lambda c, b, d: bytearray(base64.b64decode(str(b), validate=True)),
    "$c": lambda c, b, d: complex(float(b[0]), float(b[1])),
    "$range": lambda c, b, d: range(int(b[0]), int(b[1]), int(b[2])),
    "$dec": lambda c, b, d: decimal.Decimal(str(b)),
    "$fr": lambda c, b, d: fractions.Fraction(int(b[0]), int(b[1])),
    "$dt": lambda c, b, d: _dt.datetime.fromisoformat(str(b)),
    "$date": lambda c, b, d: _dt.date.fromisoformat(str(b)),
    "$time": lambda c, b, d: _dt.time.fromisoformat(str(b)),
    "$td": lambda c, b, d: _dt.timedelta(days=int(b[0]), seconds=int(b[1]), microseconds=int(b[2])),
    "$od": lambda c, b, d: OrderedDict(c._decode_pairs(b, d)),
    "$ctr": lambda c, b, d: Counter(dict(c._decode_pairs(b, d))),
    "$dd": _decode_defaultdict,
    "$dq": lambda c, b, d: deque(c._items(b[1], d), None if b[0] is None else int(b[0])),
    "$nt": _decode_namedtuple,
    "$type": lambda c, b, d: _BUILTIN_FACTORIES[str(b)],
    "$obj": _decode_object,
    "$h": lambda c, b, d: c._remote(int(b)),
    "$r": lambda c, b, d: c._resolve(int(b)),
}


# -- numpy and pandas: encoded only when the sender already imported them --------------------
def _encode_numpy(c: Codec, obj: Any, d: int) -> Any:
    np = sys.modules["numpy"]
    if type(obj) is np.ndarray and obj.dtype.fields is None:
        if obj.dtype.kind in "biufcUSM m".replace(" ", ""):
            items = obj.ravel().tolist()
            return {"$nd": [str(obj.dtype), list(obj.shape), c._seq(items, d)]}
        if obj.dtype.kind == "O":
            return {"$nd": ["object", list(obj.shape), c._seq(obj.ravel().tolist(), d)]}
        return None
    if isinstance(obj, np.generic) and type(obj).__module__ == "numpy":
        return {"$np": [str(obj.dtype), c.encode(obj.item(), d)]}
    if type(obj) is np.dtype:
        return {"$npdtype": str(obj)}
    return None


def _decode_ndarray(c: Codec, body: Any, d: int) -> Any:
    np = _require("numpy")
    dtype, shape, items = body
    values = c._items(items, d)
    if dtype == "object":
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
    else:
        arr = np.array(values, dtype=np.dtype(str(dtype)))
    return arr.reshape([int(n) for n in shape])


def _decode_npscalar(c: Codec, body: Any, d: int) -> Any:
    np = _require("numpy")
    dtype, value = body
    return np.dtype(str(dtype)).type(c.decode(value, d))


def _encode_pandas(c: Codec, obj: Any, d: int) -> Any:
    pd = sys.modules["pandas"]
    kind = type(obj)
    if kind is pd.DataFrame:
        columns = [c._seq(obj.iloc[:, i].tolist(), d) for i in range(obj.shape[1])]
        return {"$df": [_encode_index(c, obj.columns, d), _encode_index(c, obj.index, d),
                        [str(t) for t in obj.dtypes], columns]}
    if kind is pd.Series:
        return {"$ser": [c.encode(obj.name, d), _encode_index(c, obj.index, d), str(obj.dtype),
                         c._seq(obj.tolist(), d)]}
    if isinstance(obj, pd.Index):
        return {"$idx": _encode_index(c, obj, d)}
    if kind is pd.Timestamp:
        return {"$ts": obj.isoformat()}
    if kind is pd.Timedelta:
        return {"$ptd": int(obj.value)}
    if obj is pd.NaT:
        return {"$nat": None}
    if obj is pd.NA:
        return {"$pna": None}
    return None


def _encode_index(c: Codec, index: Any, d: int) -> Any:
    pd = sys.modules["pandas"]
    if isinstance(index, pd.RangeIndex):
        return ["range", c.encode(index.name, d), [index.start, index.stop, index.step]]
    if isinstance(index, pd.MultiIndex):
        return ["multi", c._seq(list(index.names), d), c._seq(index.tolist(), d)]
    return ["values", c.encode(index.name, d), str(index.dtype), c._seq(index.tolist(), d)]


def _decode_index(c: Codec, body: Any, d: int) -> Any:
    pd = _require("pandas")
    kind = body[0]
    if kind == "range":
        start, stop, step = body[2]
        return pd.RangeIndex(int(start), int(stop), int(step), name=c.decode(body[1], d))
    if kind == "multi":
        return pd.MultiIndex.from_tuples(c._items(body[2], d), names=c._items(body[1], d))
    if kind == "values":
        values = c._items(body[3], d)
        return pd.Index(values, dtype=_pandas_dtype(body[2], values), name=c.decode(body[1], d))
    raise CodecError("bad index")


def _pandas_dtype(name: Any, values: list[Any]) -> Any:
    name = str(name)
    return None if (name == "object" or not values) and name != "category" else name


def _decode_dataframe(c: Codec, body: Any, d: int) -> Any:
    pd = _require("pandas")
    columns, index, dtypes, data = body
    col_index = _decode_index(c, columns, d)
    row_index = _decode_index(c, index, d)
    series = []
    for dtype, values in zip(dtypes, data):
        decoded = c._items(values, d)
        series.append(pd.Series(decoded, index=row_index, dtype=_pandas_dtype(dtype, decoded)))
    frame = pd.concat(series, axis=1) if series else pd.DataFrame(index=row_index)
    frame.columns = col_index
    return frame


def _decode_series(c: Codec, body: Any, d: int) -> Any:
    pd = _require("pandas")
    name, index, dtype, values = body
    decoded = c._items(values, d)
    return pd.Series(decoded, index=_decode_index(c, index, d), dtype=_pandas_dtype(dtype, decoded),
                     name=c.decode(name, d))


def _require(name: str) -> Any:
    try:
        return __import__(name)
    except ImportError:
        raise CodecError(f"the value needs {name}, which is not installed for the tests") from None


_DECODERS.update({
    "$nd": _decode_ndarray,
    "$np": _decode_npscalar,
    "$npdtype": lambda c, b, d: _require("numpy").dtype(str(b)),
    "$df": _decode_dataframe,
    "$ser": _decode_series,
    "$idx": lambda c, b, d: _decode_index(c, b, d),
    "$ts": lambda c, b, d: _require("pandas").Timestamp(str(b)),
    "$ptd": lambda c, b, d: _require("pandas").Timedelta(int(b)),
    "$nat": lambda c, b, d: _require("pandas").NaT,
    "$pna": lambda c, b, d: _require("pandas").NA,
})
