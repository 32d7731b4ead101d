"""Runs code under limits and measures it: a zygote per solution, a confined process per run.

Imports nothing else of the engine but config, errors and text; returns raw runs and checker reports
(``records``), never verdicts. What crosses into and out of the sandbox is ``runtime.protocol``;
what each run may read is ``policy``.
"""

from .executor import PYTEST_RUNTIME, CountedEvent, Limits, Sandbox, modules_to_preload, sandbox_env
from .policy import ProjectRun
from .records import CheckerReport, FunctionRun, Outcome, RawRun, RemoteError
from .runtime.protocol import CaseKind, CaseSpec, CheckerSpec, DiscoveredItem, DiscoverReport, DiscoverSpec, ProjectSpec

__all__ = ["PYTEST_RUNTIME", "CaseKind", "CaseSpec", "CheckerReport", "CheckerSpec", "CountedEvent", "DiscoverReport",
           "DiscoverSpec", "DiscoveredItem", "FunctionRun", "Limits", "Outcome", "ProjectRun", "ProjectSpec", "RawRun",
           "RemoteError", "Sandbox", "modules_to_preload", "sandbox_env"]
