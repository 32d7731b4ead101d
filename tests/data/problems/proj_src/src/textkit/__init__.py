"""A package whose own __init__ holds a tested function."""

from .util import strip


def slug(text):
    return "-".join(strip(text).lower().split())
