"""A small object broker between the checker and the solution, one socket, both directions.

The checker runs the user's tests; every name the tests take from the solution's module is a
``Remote`` proxy, so calling it runs the real function in the solution's process and brings
back plain data (see ``codec``). Each side serves only the operations it allows: the
solution lets the checker call, read attributes, index and iterate; the checker lets the
solution only *call* and *iterate* what the tests handed it (a lambda, a key function, a
generator), so solution code can never walk the checker's frames or globals to find expected
values.

Equality never crosses the boundary: comparing a proxy sends nothing the other operand holds
(it could be an expected value). Proxies compare by the structure of the remote object instead
(``structurally_equal``): a proxy equals a proxy of the same class whose state (``__dict__`` or
slots) and builtin-base value (the list inside a ``class Stack(list)``) are equal. A proxy of a
builtin-container subclass equals plain data when its *base value* does, as ``list.__eq__``
would say; the subclass's own ``__eq__``/``__ne__`` is never consulted, even where it overrides
them: it is solution code, and "does my class override ``__eq__``?" is a question only the
solution could answer, so an always-equal subclass could claim not to. The cost is a false
wrong answer for a subclass whose ``__eq__`` is legitimately looser than its base's (a
case-insensitive ``str``); the solution can return plain data instead.

Coroutines: a call whose result is a coroutine (or another awaitable, from a coroutine function)
runs it to completion in the solution's process, on that process's own event loop, and the reply
is marked ``aw``: the checker hands the tests a coroutine that returns the value, or raises the
exception, when awaited, so ``asyncio.run(f(1))`` and ``await f(1)`` behave as in plain Python (the
coroutine's time is the call's). Async generators do not cross; calling one is an error that
says so.

Functions the tests hand to the solution (a key function, a callback, the function a
"count the recursive calls" solution traces) stay in the checker's process and reach the
solution as proxies it may only call. Rebuilding them in the solution's process (code object,
defaults, closure, globals) would give the solution their constants and the globals they
read, which may be the expected values, and would run test code under the solution's control.
So the proxies stay, at a known cost: a solution that inspects or traces such a function
(``func.__code__``, ``sys.settrace`` to count its frames, ``inspect.signature``) cannot work
under orps (LBPP lbpp/33 is one). Reading any attribute of such a proxy raises, at once, an
``AttributeError`` that names this limit (so ``functools.wraps`` and ``lru_cache``, which
tolerate a missing ``__name__``, still work on it).

The messages are ``protocol``'s ``RpcRequest`` and ``RpcReply``; a peer whose message does not
have their shape has broken the protocol (``ProtocolError``), as one that went away has.
"""

from __future__ import annotations

import builtins
import numbers
import socket
import sys
import time
import traceback
import types
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

from . import codec, wire
from .protocol import Encoded, ExcInfo, Mutation, RpcOp, RpcReply, RpcRequest

SOLUTION_OPS: frozenset[RpcOp] = frozenset({"module", "getattr", "setattr", "delattr", "call", "getitem", "setitem",
                                           "delitem", "len", "iter", "next", "bool", "repr", "str", "snapshot",
                                           "isinstance"})
# What the solution may do with what the tests hand it: call it, and iterate it (a generator, a
# range, a file of test data passed as an iterable). Iterating yields only what the object was
# made to yield; attributes, which lead to frames and globals, stay out of reach.
CHECKER_OPS: frozenset[RpcOp] = frozenset({"call", "iter", "next", "len", "bool"})
_MUTABLE = (list, dict, set, bytearray)
MAX_TEXT = 2000
MAX_NAME = 200  # an exception's type or module name
_ABSENT: Any = object()  # a request field left out (None is a value)


class RemoteError(Exception):
    """An exception raised in the peer whose type cannot be rebuilt here."""


class ProtocolError(Exception):
    """The peer broke the protocol (sent what it must not: the message says what), or, ``gone``,
    went away. Whatever the peer sends, this is all it can make a requester raise."""

    def __init__(self, message: str, *, gone: bool = False) -> None:
        super().__init__(message)
        self.gone = gone


class Remote:
    """Proxy for an object that lives in the peer's process."""

    __slots__ = ("_orps_ep", "_orps_id")

    def __init__(self, endpoint: Endpoint, ident: int) -> None:
        object.__setattr__(self, "_orps_ep", endpoint)
        object.__setattr__(self, "_orps_id", ident)

    def _op(self, op: RpcOp, **fields: Any) -> Any:
        return self._orps_ep.request(op, self._orps_id, **fields)

    def __getattr__(self, name: str) -> Any:
        ep = self._orps_ep
        # The tests' objects have no readable attributes: an AttributeError, as ``functools.wraps`` expects.
        if (name.startswith("__") and name.endswith("__") and name not in _FORWARDED_DUNDERS) \
                or "getattr" not in ep.peer_ops:
            raise AttributeError(_unavailable(name, ep), name=name)
        return self._op("getattr", name=name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._op("setattr", name=name, value=self._orps_ep.codec.encode(value))

    def __delattr__(self, name: str) -> None:
        self._op("delattr", name=name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._orps_ep.call(self._orps_id, args, kwargs)

    def __getitem__(self, key: Any) -> Any:
        return self._op("getitem", key=self._orps_ep.codec.encode(key))

    def __setitem__(self, key: Any, value: Any) -> None:
        enc = self._orps_ep.codec.encode
        self._op("setitem", key=enc(key), value=enc(value))

    def __delitem__(self, key: Any) -> None:
        self._op("delitem", key=self._orps_ep.codec.encode(key))

    def __len__(self) -> int:
        return int(self._op("len"))

    def __iter__(self) -> Any:
        return _RemoteIterator(self._op("iter"))

    def __next__(self) -> Any:  # a generator or iterator the peer returned: ``next(it)`` works on it
        return self._op("next")

    def __bool__(self) -> bool:
        return bool(self._op("bool"))

    def __repr__(self) -> str:
        try:
            return str(self._op("repr"))[:MAX_TEXT]
        except Exception:
            return f"<solution object #{self._orps_id}>"

    def __str__(self) -> str:
        return str(self._op("str"))

    def __eq__(self, other: object) -> bool:
        return structurally_equal(self, other)

    def __ne__(self, other: object) -> bool:
        return not structurally_equal(self, other)

    def __hash__(self) -> int:
        return hash(("orps-remote", self._orps_id))

    def __instancecheck__(self, instance: Any) -> bool:
        ep = self._orps_ep
        return bool(ep.request("isinstance", self._orps_id, value=ep.codec.encode(instance)))


_FORWARDED_DUNDERS = frozenset({"__name__", "__qualname__", "__doc__", "__module__", "__dict__",
                                "__class__"})


def _unavailable(name: str, endpoint: Endpoint) -> str:
    """Why an attribute of a proxy is missing (see the module's docstring on functions from the tests)."""
    if "getattr" not in endpoint.peer_ops:  # this is the solution's process: the proxy is the tests'
        return (f"{name} is not available: this object belongs to the tests, which orps runs in a "
                "separate process; the solution can only call it (so its code cannot be inspected or "
                "traced: a known limit of orps)")
    return f"{name} is not available: this object lives in the solution's process (orps runs it separately)"


class _RemoteIterator:
    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def __iter__(self) -> _RemoteIterator:
        return self

    def __next__(self) -> Any:
        handle = self._handle
        if not isinstance(handle, Remote):  # the peer's iter() gave back plain data
            self._handle = iter(handle)
            return next(self._handle)
        return handle._orps_ep.request("next", handle._orps_id)


def structurally_equal(a: Any, b: Any, _seen: set[tuple[int, int]] | None = None) -> bool:
    """Compare values that may hold proxies: a proxy equals a proxy of equal structure, or plain
    data equal to its builtin-base value (see the module's docstring)."""
    if not isinstance(a, Remote) and not isinstance(b, Remote):
        try:
            return bool(a == b)
        except Exception:  # e.g. numpy arrays, whose == is elementwise
            return False
    if not (isinstance(a, Remote) and isinstance(b, Remote)):
        return _equals_plain(a, b) if isinstance(a, Remote) else _equals_plain(b, a)
    if a._orps_id == b._orps_id:
        return True
    if "snapshot" not in a._orps_ep.peer_ops:  # the tests' objects, in the solution's process: identity only
        return False
    seen = _seen if _seen is not None else set()
    key = (a._orps_id, b._orps_id)
    if key in seen:
        return True
    seen.add(key)
    snap_a = a._orps_ep.request("snapshot", a._orps_id)
    snap_b = b._orps_ep.request("snapshot", b._orps_id)
    return _same_shape(snap_a, snap_b, seen)


# What a builtin-base value can equal: the bases themselves, and the numbers an int or float equals.
_COMPARABLE_PLAIN = (list, tuple, dict, set, frozenset, str, bytes, bytearray, numbers.Number)


def _equals_plain(proxy: Remote, plain: Any) -> bool:
    """A proxy against plain data: equal when the remote object's builtin-base value is."""
    if not isinstance(plain, _COMPARABLE_PLAIN) or "snapshot" not in proxy._orps_ep.peer_ops:
        return False
    snap = proxy._orps_ep.request("snapshot", proxy._orps_id)
    if type(snap) is not list or len(snap) != 3 or isinstance(snap[2], Remote):
        return False
    return structurally_equal(snap[2], plain)


def _same_shape(x: Any, y: Any, seen: set[tuple[int, int]]) -> bool:
    if isinstance(x, Remote) or isinstance(y, Remote):
        return structurally_equal(x, y, seen)
    if type(x) is not type(y):
        return False
    if isinstance(x, dict):
        return x.keys() == y.keys() and all(_same_shape(x[k], y[k], seen) for k in x)
    if isinstance(x, (list, tuple)):
        return len(x) == len(y) and all(_same_shape(p, q, seen) for p, q in zip(x, y))
    return structurally_equal(x, y, seen)


# A builtin base's value of an instance of a subclass, read by the base's own methods (a plain
# copy: the subclass's ``__iter__`` or ``__str__`` is not what ``list.__eq__`` looks at).
_BASE_VALUE: dict[type, Callable[[Any], Any]] = {
    list: list.copy,
    tuple: lambda o: tuple.__getitem__(o, slice(None)),
    dict: lambda o: {k: dict.__getitem__(o, k) for k in dict.__iter__(o)},
    set: lambda o: set(set.__iter__(o)),
    frozenset: lambda o: frozenset(frozenset.__iter__(o)),
    str: str.__str__,
    bytes: lambda o: bytes.__getitem__(o, slice(None)),
    bytearray: bytearray.copy,
    int: int.__int__,
    float: float.__float__,
    complex: lambda o: complex(float.__float__(complex.real.__get__(o)), float.__float__(complex.imag.__get__(o))),
}


def _base_value(obj: Any) -> Any:
    """The value of ``obj``'s nearest builtin base, or ``_ABSENT`` if it has none."""
    for base in type(obj).__mro__:
        copy = _BASE_VALUE.get(base)
        if copy is not None:
            return copy(obj)
    return _ABSENT


def _name_of(fn: Any) -> str:
    name = getattr(fn, "__qualname__", None)
    return name[:100] if type(name) is str else "the function"


def _is_coroutine_function(fn: Any) -> bool:
    import inspect  # only for an awaitable that is not a coroutine: rare

    return inspect.iscoroutinefunction(fn)


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


async def _settled(value: Any, error: BaseException | None) -> Any:
    """What the tests await for a coroutine the solution's process already ran."""
    if error is not None:
        raise error
    return value


class Endpoint:
    """One side of the broker: sends requests, serves the peer's requests meanwhile."""

    def __init__(self, sock: socket.socket, *, serve_ops: frozenset[RpcOp],
                 module_loader: Callable[[], Any] | None = None,
                 error_line: Callable[[BaseException], int | None] | None = None,
                 drain_output: Callable[[], str] | None = None,
                 on_output: Callable[[str], None] | None = None) -> None:
        self.sock = sock
        self.serve_ops = serve_ops
        # What the peer serves: the checker serves the solution only calls, the solution serves the rest.
        self.peer_ops = CHECKER_OPS if serve_ops == SOLUTION_OPS else SOLUTION_OPS
        self._module_loader = module_loader
        self._error_line = error_line or (lambda exc: None)
        self._drain_output = drain_output or (lambda: "")
        self.on_output = on_output or (lambda text: None)
        self._exports: dict[int, Any] = {}
        self._export_ids: dict[int, int] = {}
        self._remotes: dict[int, Remote] = {}
        self._next_id = 0
        self.calls = 0
        self.busy_s = 0.0
        self.served_cpu_s = 0.0  # this thread's CPU time serving the peer's requests (``_serve_measured``)
        self._serving = 0
        self._serve_started = 0.0
        self.last_result: Any = None
        self._loop: Any = None  # the solution's event loop for coroutines, made on first use
        # How the tests reached each of the peer's objects (``mean``, ``Stats().spread``), and who
        # is told of every call into the peer (``behaviour.Recorder.record``): the checker's side.
        self.labels: dict[int, str] = {}
        self.observer: Callable[[str, Any, BaseException | None, list[Any], str], None] | None = None
        self.codec = codec.Codec(export=self._export, resolve=self._resolve, remote=self._remote,
                                 remote_id=self._remote_id)

    # -- handles ----------------------------------------------------------------------------
    def _export(self, obj: Any) -> int:
        ident = self._export_ids.get(id(obj))
        if ident is None or self._exports.get(ident) is not obj:
            self._next_id += 1
            ident = self._next_id
            self._exports[ident] = obj
            self._export_ids[id(obj)] = ident
        return ident

    def _resolve(self, ident: int) -> Any:
        try:
            return self._exports[ident]
        except KeyError:
            raise codec.CodecError(f"unknown handle {ident}") from None

    def _remote(self, ident: int) -> Remote:
        proxy = self._remotes.get(ident)
        if proxy is None:
            proxy = self._remotes[ident] = Remote(self, ident)
        return proxy

    def _remote_id(self, obj: Any) -> int | None:
        if type(obj) is Remote and obj._orps_ep is self:
            return int(obj._orps_id)
        return None

    # -- requesting -------------------------------------------------------------------------
    def call(self, ident: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        enc = self.codec.encode
        sent_args = [enc(a) for a in args]
        sent_kwargs = {k: enc(v) for k, v in kwargs.items()}
        reply = self._roundtrip({"id": self._new_id(), "op": "call", "obj": ident, "args": sent_args,
                                 "kwargs": sent_kwargs})
        changed = []
        self.calls += 1
        for mutation in reply.get("mut", ()):
            value = self.codec.decode(mutation["value"])
            changed.append(value)
            _write_back(_mutated(mutation, args, kwargs), value, self.codec)
        label = self.labels.get(ident, "?")
        if reply.get("aw"):  # a coroutine, run already: the tests get one that settles alike
            error = rebuild_exception(reply["exc"]) if "exc" in reply else None
            self.last_result = None if error is not None else self.codec.decode(reply.get("ok"))
            self._observe(label, self.last_result, error, changed, reply)
            return _settled(self.last_result, error)
        try:
            self.last_result = self._unwrap(reply)
        except BaseException as exc:
            self._observe(label, None, exc, changed, reply)
            raise
        self._observe(label, self.last_result, None, changed, reply)
        self.name_proxy(self.last_result, f"{label}()")
        return self.last_result

    def _observe(self, label: str, result: Any, error: BaseException | None, changed: list[Any],
                 reply: RpcReply) -> None:
        if self.observer is not None:
            self.observer(label, result, error, changed, reply.get("out", ""))

    def name_proxy(self, value: Any, label: str) -> None:
        """Name a proxy the first time the tests reach it (later names do not replace it)."""
        ident = self._remote_id(value)
        if ident is not None:
            self.labels.setdefault(ident, label)

    def request(self, op: RpcOp, obj: int | None = None, *, name: str | None = None, key: Encoded = _ABSENT,
                value: Encoded = _ABSENT) -> Any:
        """Ask the peer for ``op`` (on its object ``obj``); ``key`` and ``value`` are encoded already."""
        message: RpcRequest = {"id": self._new_id(), "op": op}
        if obj is not None:
            message["obj"] = obj
        if name is not None:
            message["name"] = name
        if key is not _ABSENT:
            message["key"] = key
        if value is not _ABSENT:
            message["value"] = value
        result = self._unwrap(self._roundtrip(message))
        if op == "getattr" and obj is not None and name is not None:
            self.name_proxy(result, f"{self.labels.get(obj, '?')}.{name}")
        return result

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _roundtrip(self, message: RpcRequest) -> RpcReply:
        started = time.perf_counter()
        try:
            wire.send(self.sock, message)
            while True:
                incoming = _read(_receive(self.sock))
                if "op" in incoming:
                    self._serve_measured(cast(RpcRequest, incoming))
                    continue
                reply = cast(RpcReply, incoming)
                if reply["re"] != message["id"]:
                    raise ProtocolError("a reply out of order")
                break
        except (OSError, wire.ChannelClosed) as exc:
            raise ProtocolError(f"the solution's process went away ({exc})", gone=True) from None
        finally:
            self.busy_s += time.perf_counter() - started
        if reply.get("out"):
            self.on_output(reply["out"])
        return reply

    def _unwrap(self, reply: RpcReply) -> Any:
        if "exc" in reply:
            raise rebuild_exception(reply["exc"])
        return self.codec.decode(reply.get("ok"))

    # -- serving ----------------------------------------------------------------------------
    def serve_forever(self) -> None:
        while True:
            try:
                incoming = _read(_receive(self.sock))
            except (OSError, wire.WireError, ProtocolError):
                return
            if "op" in incoming:
                try:
                    self._serve(cast(RpcRequest, incoming))
                except OSError:  # the peer went away before the reply: nothing left to serve
                    return

    def _serve_measured(self, msg: RpcRequest) -> None:
        """Serve a request the peer made while this side waited on it, timing this thread's CPU:
        on the checker's side that is a callable of the tests' (a key function, a comparator) run
        for the solution, which the parent bills to the solution (``served_cpu_s``). A callback's
        own nested callbacks are inside its measurement, so only the outermost one is added."""
        self._serving += 1
        if self._serving == 1:
            self._serve_started = time.thread_time()
        try:
            self._serve(msg)
        finally:
            self._serving -= 1
            if not self._serving:
                self.served_cpu_s += time.thread_time() - self._serve_started

    @property
    def serving(self) -> bool:
        """Whether this side is serving the peer's request now (a callback of the tests', running)."""
        return self._serving > 0

    def served_cpu_so_far(self) -> float:
        """``served_cpu_s`` with the request being served now, so far."""
        ongoing = time.thread_time() - self._serve_started if self._serving else 0.0
        return self.served_cpu_s + ongoing

    def _serve(self, msg: RpcRequest) -> None:
        try:
            op = msg["op"]
            if op not in self.serve_ops:
                raise PermissionError(f"operation {op!r} is not allowed across the sandbox")
            reply: RpcReply = getattr(self, "_op_" + op)(msg)
        except BaseException as exc:  # every failure of served code goes back to the peer
            reply = {"re": msg["id"], "exc": self._describe(exc)}
        out = self._drain_output()
        if out:
            reply["out"] = out
        wire.send(self.sock, reply)

    def _target(self, msg: RpcRequest) -> Any:
        return self._resolve(int(msg["obj"]))

    def _ok(self, msg: RpcRequest, value: Any) -> RpcReply:
        return {"re": msg["id"], "ok": self.codec.encode(value)}

    def _op_module(self, msg: RpcRequest) -> RpcReply:
        assert self._module_loader is not None
        module = self._module_loader()
        by_value = self.codec.decode(msg["value"]) if "value" in msg else []
        if type(by_value) is list:
            self.codec.share_by_value([m for m in by_value if type(m) is str], own_module=module.__name__)
        names = {k: v for k, v in vars(module).items()
                 if not k.startswith("_") and not isinstance(v, types.ModuleType)}
        listing: dict[str, Any] = {"module": codec.AsHandle(module), "names": names}
        exported = vars(module).get("__all__")
        if isinstance(exported, (list, tuple)) and all(type(n) is str for n in exported):
            listing["all"] = list(exported)
        return self._ok(msg, listing)

    def _op_call(self, msg: RpcRequest) -> RpcReply:
        fn = self._target(msg)
        dec = self.codec.decode
        sent_args, sent_kwargs = msg.get("args", []), msg.get("kwargs", {})
        args = [dec(a) for a in sent_args]
        kwargs = {str(k): dec(v) for k, v in sent_kwargs.items()}
        result = fn(*args, **kwargs)
        reply: RpcReply
        if isinstance(result, types.AsyncGeneratorType):
            raise TypeError(f"{_name_of(fn)} returned an async generator, which orps cannot pass to the tests "
                            "(its process is separate); only coroutines are awaited across")
        if isinstance(result, types.CoroutineType) or (isinstance(result, Awaitable) and _is_coroutine_function(fn)):
            try:
                reply = {**self._ok(msg, self._run_coroutine(result)), "aw": True}
            except BaseException as exc:  # raised when the tests await it, as in plain Python
                reply = {"re": msg["id"], "exc": self._describe(exc), "aw": True}
        else:
            reply = self._ok(msg, result)
        mutated: list[Mutation] = [
            {"where": "arg", "key": i, "value": enc} for i, (a, sent) in enumerate(zip(args, sent_args))
            if self._mirrored(a) and (enc := self.codec.encode(a)) != sent]
        mutated += [{"where": "kwarg", "key": k, "value": enc} for k, v in kwargs.items()
                    if self._mirrored(v) and (enc := self.codec.encode(v)) != sent_kwargs[k]]
        if mutated:
            reply["mut"] = mutated
        return reply

    def _mirrored(self, arg: Any) -> bool:
        """Whether a callee's in-place change to ``arg`` goes back to the caller's own object."""
        return isinstance(arg, _MUTABLE) or self.codec.travels_by_value(arg)

    def _run_coroutine(self, awaitable: Awaitable[Any]) -> Any:
        """Run a coroutine to its end on this process's event loop (kept, so loop-bound objects
        the solution made at import, an ``asyncio.Lock``, keep working from call to call)."""
        import asyncio  # here: most solutions never need it, and it costs milliseconds

        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        if isinstance(awaitable, Coroutine):
            return self._loop.run_until_complete(awaitable)
        return self._loop.run_until_complete(_awaited(awaitable))

    def _op_getattr(self, msg: RpcRequest) -> RpcReply:
        return self._ok(msg, getattr(self._target(msg), str(msg["name"])))

    def _op_setattr(self, msg: RpcRequest) -> RpcReply:
        setattr(self._target(msg), str(msg["name"]), self.codec.decode(msg["value"]))
        return self._ok(msg, None)

    def _op_delattr(self, msg: RpcRequest) -> RpcReply:
        delattr(self._target(msg), str(msg["name"]))
        return self._ok(msg, None)

    def _op_getitem(self, msg: RpcRequest) -> RpcReply:
        return self._ok(msg, self._target(msg)[self.codec.decode(msg["key"])])

    def _op_setitem(self, msg: RpcRequest) -> RpcReply:
        self._target(msg)[self.codec.decode(msg["key"])] = self.codec.decode(msg["value"])
        return self._ok(msg, None)

    def _op_delitem(self, msg: RpcRequest) -> RpcReply:
        del self._target(msg)[self.codec.decode(msg["key"])]
        return self._ok(msg, None)

    def _op_len(self, msg: RpcRequest) -> RpcReply:
        return self._ok(msg, len(self._target(msg)))

    def _op_iter(self, msg: RpcRequest) -> RpcReply:
        return self._ok(msg, codec.AsHandle(iter(self._target(msg))))

    def _op_next(self, msg: RpcRequest) -> RpcReply:
        return self._ok(msg, next(self._target(msg)))

    def _op_bool(self, msg: RpcRequest) -> RpcReply:
        return self._ok(msg, bool(self._target(msg)))

    def _op_repr(self, msg: RpcRequest) -> RpcReply:
        return self._ok(msg, str(repr(self._target(msg)))[:MAX_TEXT])

    def _op_str(self, msg: RpcRequest) -> RpcReply:
        return self._ok(msg, str(str(self._target(msg))))

    def _op_isinstance(self, msg: RpcRequest) -> RpcReply:
        return self._ok(msg, bool(isinstance(self.codec.decode(msg["value"]), self._target(msg))))

    def _op_snapshot(self, msg: RpcRequest) -> RpcReply:
        """``[class name, state]``, and the builtin base's value where there is one (``Stack(list)``)."""
        obj = self._target(msg)
        kind = type(obj)
        base = _base_value(obj)
        state: Any
        if hasattr(obj, "__dict__") and type(obj.__dict__) is dict:
            state = dict(obj.__dict__)
        else:
            slots = [s for c in kind.__mro__ for s in getattr(c, "__slots__", ()) if hasattr(obj, s)]
            state = {s: getattr(obj, s) for s in slots} if slots or base is not _ABSENT else {"$id": id(obj)}
        name = f"{getattr(kind, '__module__', '?')}.{getattr(kind, '__qualname__', '?')}"
        return self._ok(msg, [name, state] if base is _ABSENT else [name, state, base])

    def _describe(self, exc: BaseException) -> ExcInfo:
        kind = type(exc)
        plain = all(type(a) in (str, int, bool, type(None)) for a in exc.args)
        args = list(exc.args) if plain and sum(len(a) for a in exc.args if type(a) is str) <= MAX_TEXT else None
        return {"type": str(kind.__name__)[:MAX_NAME], "module": str(getattr(kind, "__module__", ""))[:MAX_NAME],
                "message": safe_str(exc)[:MAX_TEXT], "args": args,
                "line": self._error_line(exc),
                "trace": "".join(traceback.format_exception(kind, exc, exc.__traceback__))[-4000:]}


def _receive(sock: socket.socket) -> object:
    """The peer's next message. A frame too large or too deep for this process is the peer's
    doing, a broken protocol, like any other malformed frame (never this side's own failure)."""
    try:
        return wire.recv(sock)
    except wire.ChannelClosed:
        raise
    except wire.WireError as exc:
        raise ProtocolError(f"a frame that could not be read ({exc})") from None
    except (MemoryError, RecursionError):
        raise ProtocolError("a message too large to receive") from None


def _read(message: object) -> dict[str, Any]:
    """An incoming request or reply, checked as far as this side relies on its shape."""
    if type(message) is not dict:
        raise ProtocolError("a message that is not an object")
    msg = cast(dict[str, Any], message)
    if "op" in msg:
        _expect(type(msg.get("id")) is int and type(msg["op"]) is str, "a malformed request")
        return msg
    _expect(type(msg.get("re")) is int, "a reply to no request")
    _expect(type(msg.get("out", "")) is str, "output that is not text")
    _expect(type(msg.get("exc", {})) is dict, "a malformed exception")
    _expect(type(msg.get("aw", False)) is bool, "a malformed coroutine mark")
    mutations = msg.get("mut", [])
    _expect(type(mutations) is list and all(_is_mutation(m) for m in mutations), "malformed mutations")
    return msg


def _expect(ok: bool, what: str) -> None:
    if not ok:
        raise ProtocolError(what)


def _is_mutation(item: object) -> bool:
    return type(item) is dict and "value" in item and (
        (item.get("where") == "arg" and type(item.get("key")) is int)
        or (item.get("where") == "kwarg" and type(item.get("key")) is str))


def _mutated(mutation: Mutation, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The argument a mutation names (None if it names none)."""
    key = mutation["key"]
    if mutation["where"] == "arg":
        return args[key] if isinstance(key, int) and 0 <= key < len(args) else None
    return kwargs.get(str(key))


def _write_back(target: Any, value: Any, shared: codec.Codec) -> None:
    """Mirror an in-place change the solution made to an argument the tests passed (a value that
    cannot be the argument's new contents is a broken protocol: the peer sent it)."""
    try:
        _mirror(target, value, shared)
    except Exception as exc:
        raise ProtocolError(f"a malformed mutation ({type(exc).__name__})") from None


def _mirror(target: Any, value: Any, shared: codec.Codec) -> None:
    if type(value) is type(target) and shared.travels_by_value(target):
        codec.set_object_state(target, codec.object_state(value, type(value)), replace=True)
    elif isinstance(target, list):
        target[:] = value
    elif isinstance(target, (dict, set)):
        target.clear()
        target.update(value)
    elif isinstance(target, bytearray):
        target[:] = value


def safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return "<unprintable message>"


_NOT_REBUILT = (SystemExit, KeyboardInterrupt, GeneratorExit)


def rebuild_exception(info: ExcInfo) -> BaseException:
    """Turn the peer's exception description into a local exception the tests can catch: the
    builtin type it names, built from its arguments or its message, else a ``RemoteError`` of that
    name. The description is the peer's, so every part of it may be malformed: whatever it says,
    this returns an exception (never raises one of its own)."""
    name = str(info.get("type", "Exception"))[:MAX_NAME]
    module = str(info.get("module", ""))[:MAX_NAME]
    message = str(info.get("message", ""))[:MAX_TEXT]
    cls = getattr(builtins, name, None) if module == "builtins" else None
    exc: BaseException | None = None
    if isinstance(cls, type) and issubclass(cls, BaseException) and not issubclass(cls, _NOT_REBUILT):
        exc = _built(cls, info.get("args"), message)
    if exc is None:
        try:
            local = type(name, (RemoteError,), {"__module__": module or "solution"})
        except (TypeError, ValueError):  # not a name a class can have (a NUL in it)
            local = type("RemoteError", (RemoteError,), {"__module__": "solution"})
        exc = local(message)
    setattr(exc, "orps_remote", info)  # noqa: B010 (an attribute no exception class declares)
    return exc


def _built(cls: type[BaseException], args: object, message: str) -> BaseException | None:
    """``cls`` from the peer's arguments, else from its message, else with its message but without
    its ``__init__`` (``UnicodeDecodeError`` takes five arguments: the tests can still catch it as
    one), else None."""
    attempts: list[tuple[object, ...]] = [tuple(args)] if isinstance(args, list) else []
    attempts.append(() if cls is StopIteration else (message,))
    for attempt in attempts:
        try:
            return cls(*attempt)
        except Exception:
            continue
    try:
        return cls.__new__(cls, message)
    except Exception:
        return None


def user_frame_line(exc: BaseException, filename: str) -> int | None:
    """The deepest line of ``filename`` in the traceback (or the SyntaxError's own line)."""
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        return exc.lineno
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def flush_stdio(*also: Any) -> None:
    """The current ``sys.stdout`` and ``sys.stderr``, then ``also`` (streams they may have replaced)."""
    for stream in (sys.stdout, sys.stderr, *also):
        try:
            stream.flush()
        except Exception:
            pass
