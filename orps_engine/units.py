"""How figures are written for people: one place, so the CLI, the editor and the model's reports agree.
Every layer may use it; it imports nothing."""

from __future__ import annotations


def ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    if value >= 10:
        return f"{value:.0f} ms"
    return f"{value:.1f} ms"


def kb(value: int | None) -> str:
    """Memory in MB whatever its size below a GB (``1016 KB`` beside ``1.1 MB`` reads as a change
    of unit, not of size), with two decimals below 10 MB; GB from 1 GB on."""
    if value is None:
        return "n/a"
    mb = value / 1024
    if mb >= 1024:
        return f"{mb / 1024:.1f} GB"
    return f"{mb:.2f} MB" if mb < 10 else f"{mb:.1f} MB"


def count(value: int | None) -> str:
    if value is None:
        return "unavailable"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:.1f}{unit}"
    return str(value)
