"""Prompts, the execution report as the model reads it, reply parsing, and the execution score.
Pure: no network, no sandbox."""

from .parse import CriticReply, ProgrammerReply, parse_critic, parse_programmer
from .prompts import Attempt, critic_messages, hint, programmer_messages, with_reminder
from .report import cost_ms, execution_score, instructions, pass_fraction, peak_kb, render_report, static_score
from .static import StaticMetrics, static_metrics

__all__ = ["Attempt", "CriticReply", "ProgrammerReply", "StaticMetrics", "cost_ms", "critic_messages",
           "execution_score", "hint", "instructions", "parse_critic", "parse_programmer", "pass_fraction", "peak_kb",
           "programmer_messages", "render_report", "static_metrics", "static_score", "with_reminder"]
