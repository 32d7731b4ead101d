"""The ORPS beam search: rounds, beam, final pick, early stop, execution cache, and the score."""

from .engine import Event, EventCallback, EventKind, measure_pair, refine
from .evaluate import Evaluator
from .score import execution_score, static_score
from .tree import ORIGINAL, Delta, Failure, FailureKind, Node, RefineResult, better, final_pick

__all__ = ["ORIGINAL", "Delta", "Evaluator", "Event", "EventCallback", "EventKind", "Failure", "FailureKind",
           "Node", "RefineResult", "better", "execution_score", "final_pick", "measure_pair", "refine",
           "static_score"]
