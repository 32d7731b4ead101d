from nsp.tools import double
from textkit import slug
from textkit.parse.rows import parse_row


def test_slug():
    assert slug("  Hello Big World! ") == "hello-big-world"


def test_parse_row():
    assert parse_row("a ;b.; c") == ["a", "b", "c"]


def test_double():
    assert double(21) == 42
