"""Renderings of results for people and programs. Returns strings; does no I/O."""

from .jsondoc import suite_document
from .terminal import format_suite, results_table

__all__ = ["format_suite", "results_table", "suite_document"]
