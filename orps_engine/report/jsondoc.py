"""The JSON document of ``orps test --json`` (schema in the README)."""

from __future__ import annotations

from typing import Any

from ..problem import Problem
from ..results import ExecutionResult, RunError, SuiteResult


def suite_document(problem: Problem, suite: SuiteResult) -> dict[str, Any]:
    return {
        "file": str(problem.path),
        "passed": suite.passed,
        "failed": suite.failed,
        "total": suite.total,
        "startup_cpu_ms": suite.startup_cpu_ms,
        "tests": [{**result_document(r), "judge_cpu_ms": suite.judge_cpu_ms(r)} for r in suite.results],
    }


def result_document(result: ExecutionResult) -> dict[str, Any]:
    return {
        "id": result.test_id,
        "verdict": result.verdict.value,
        "wall_ms": result.wall_ms,
        "cpu_ms": result.cpu_ms,
        "peak_kb": result.peak_kb,
        "instructions": result.instructions,
        "bytecodes": result.bytecodes,
        "expected": result.expected,
        "actual": result.actual,
        "error": _error(result.error, result.detail) if result.error or not result.verdict.passed else None,
    }


def _error(error: RunError | None, detail: str | None) -> dict[str, Any] | None:
    if error is None:
        return {"type": None, "message": detail, "line": None} if detail else None
    return {"type": error.type, "message": error.message, "line": error.line}
