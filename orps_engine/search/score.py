"""The execution score the beam ranks by, and its static half that breaks ties in the final pick.

S = p * (1 + 0.5 * static + 0.5 * dynamic): p the pass fraction, each half the mean of
1/(1 + x/scale) over its figures, so smaller, simpler code and cheaper runs score higher.
"""

from __future__ import annotations

from ..critic import static_metrics
from ..results import SuiteResult

# Scales of the 1/(1 + x/scale) terms: figures at their scale score 0.5.
LOC_SCALE = 40.0
COMPLEXITY_SCALE = 10.0
CPU_MS_SCALE = 100.0
PEAK_KB_SCALE = 16 * 1024.0


def static_score(code: str) -> float:
    """Smaller, simpler code scores higher. Unlike the dynamic half it is free of measurement
    noise, so it can break ties between timings."""
    metrics = static_metrics(code)
    return (_term(metrics.lines_of_code, LOC_SCALE) + _term(metrics.complexity, COMPLEXITY_SCALE)) / 2


def execution_score(code: str, suite: SuiteResult) -> float:
    dynamic = (_term(suite.total_cpu_ms, CPU_MS_SCALE) + _term(suite.max_peak_kb, PEAK_KB_SCALE)) / 2
    return suite.pass_fraction * (1 + 0.5 * static_score(code) + 0.5 * dynamic)


def _term(value: float, scale: float) -> float:
    return 1.0 / (1.0 + max(0.0, value) / scale)
