"""Two functions with doctests, one without: --function must pick."""


def inc(n):
    """
    >>> inc(1)
    2
    """
    return n + 1


def dec(n):
    """
    >>> dec(1)
    0
    >>> dec(10)
    9
    """
    return n - 1


def plain(n):
    """No examples here."""
    return n
