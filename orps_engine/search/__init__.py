"""The ORPS beam search: rounds, beam, final pick, early stop, execution cache."""

from .engine import Event, EventCallback, refine
from .evaluate import Evaluator
from .tree import ORIGINAL, Delta, Node, RefineResult, better, final_pick

__all__ = ["ORIGINAL", "Delta", "Evaluator", "Event", "EventCallback", "Node", "RefineResult", "better", "final_pick",
           "refine"]
