"""Runs code under limits and measures it: a zygote per solution, a confined process per run.

Imports nothing else of the engine but config and errors; returns raw runs, never verdicts.
"""

from .executor import FunctionRun, Limits, RawRun, Sandbox, modules_to_preload, sandbox_env

__all__ = ["FunctionRun", "Limits", "RawRun", "Sandbox", "modules_to_preload", "sandbox_env"]
