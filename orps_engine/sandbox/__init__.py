"""Runs code under limits and measures it: a zygote per solution, a confined process per run.

Imports nothing else of the engine but config, errors and text; returns raw runs and checker reports
(``records``), never verdicts. What crosses into and out of the sandbox is ``runtime.protocol``.
"""

from .executor import Limits, Sandbox, modules_to_preload, sandbox_env
from .records import CheckerReport, FunctionRun, Outcome, RawRun, RemoteError
from .runtime.protocol import CaseKind, CaseSpec, CheckerSpec

__all__ = ["CaseKind", "CaseSpec", "CheckerReport", "CheckerSpec", "FunctionRun", "Limits", "Outcome", "RawRun",
           "RemoteError", "Sandbox", "modules_to_preload", "sandbox_env"]
