"""A small package with subpackage-style relative imports and a data file."""

from .stats import mean, variance

__all__ = ["mean", "variance"]
