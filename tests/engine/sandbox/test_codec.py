"""The plain-data codec: what crosses as data round-trips exactly; everything else becomes a
handle; malformed input from a peer is refused, not executed."""

from __future__ import annotations

import datetime as dt
import decimal
import fractions
from collections import Counter, OrderedDict, defaultdict, deque, namedtuple
from typing import Any

import pytest

from orps_engine.sandbox.runtime import codec


class _Table:
    def __init__(self) -> None:
        self.exported: list[Any] = []

    def export(self, obj: Any) -> int:
        self.exported.append(obj)
        return len(self.exported)

    def codec(self) -> codec.Codec:
        return codec.Codec(export=self.export, resolve=lambda n: self.exported[n - 1],
                           remote=lambda n: ("remote", n), remote_id=lambda obj: None)


def roundtrip(value: Any) -> Any:
    c = _Table().codec()
    import json

    return c.decode(json.loads(json.dumps(c.encode(value))))


Point = namedtuple("Point", "x y")


@pytest.mark.parametrize(
    "value",
    [
        None, True, 0, -(10**40), 1.5, float("inf"), "text", b"\x00\xff", bytearray(b"ab"), 3 + 4j,
        [1, [2, (3, 4)]], (1,), {"a": 1, (1, 2): [3]}, {1, 2}, frozenset({"x"}), range(1, 10, 2),
        decimal.Decimal("1.10"), fractions.Fraction(1, 3), dt.datetime(2024, 1, 2, 3, 4, 5), dt.date(2024, 1, 2),
        dt.time(1, 2), dt.timedelta(days=1, seconds=2), OrderedDict(a=1), Counter("aab"), deque([1, 2], maxlen=5),
        defaultdict(list, {"k": [1]}), Point(1, 2), int, str,
    ],
    ids=repr,
)
def test_codec_plain_values_roundtrip_exactly(value: Any) -> None:
    back = roundtrip(value)
    assert back == value
    assert type(back) is type(value) or (isinstance(value, tuple) and hasattr(value, "_fields"))


def test_codec_nan_roundtrips() -> None:
    back = roundtrip(float("nan"))
    assert back != back


def test_codec_objects_become_handles() -> None:
    class AlwaysEqual:
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = object.__hash__

    class EvilInt(int):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = int.__hash__

    table = _Table()
    c = table.codec()
    for obj in (AlwaysEqual(), EvilInt(3), lambda: 0):
        expected = {"$h": len(table.exported) + 1}
        assert c.encode(obj) == expected
        assert table.exported[-1] is obj


def test_codec_numpy_and_pandas_roundtrip() -> None:
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    arr = np.arange(6, dtype=np.int32).reshape(2, 3)
    back = roundtrip(arr)
    assert back.dtype == arr.dtype and back.shape == arr.shape and (back == arr).all()
    assert roundtrip(np.float64(2.5)) == np.float64(2.5) and type(roundtrip(np.int64(3))) is np.int64
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [0.5, None]}, index=["r1", "r2"])
    assert roundtrip(frame).equals(frame)
    series = pd.Series([1.0, 2.0], name="s")
    assert roundtrip(series).equals(series)


@pytest.mark.parametrize(
    "data",
    [{"$eval": "1"}, {"$f": "1e309x"}, {"$t": 5}, {"a": 1, "b": 2}, {"$b": "!!"}, {"$type": "eval"}, object()],
    ids=str,
)
def test_codec_malformed_input_is_refused(data: Any) -> None:
    with pytest.raises(codec.CodecError):
        _Table().codec().decode(data)


def test_codec_as_handle_sends_data_as_a_handle() -> None:
    table = _Table()
    assert table.codec().encode(codec.AsHandle([1, 2])) == {"$h": 1}
    assert table.exported == [[1, 2]]


def test_codec_too_deep_is_refused() -> None:
    value: list[Any] = []
    for _ in range(codec.MAX_DEPTH + 5):
        value = [value]
    with pytest.raises(codec.CodecError):
        _Table().codec().encode(value)
