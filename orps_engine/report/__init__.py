"""Renderings of results for people and programs. Returns strings; does no I/O."""

from .terminal import format_suite, format_table
from .jsondoc import suite_document

__all__ = ["format_suite", "format_table", "suite_document"]
