"""Prompts, the execution report as the model reads it, reply parsing and code metrics.
Pure: no network, no sandbox."""

from .parse import CriticReply, ProgrammerReply, code_block_closed, critic_score, parse_critic, parse_programmer
from .prompts import CODE_REMINDER, SCORE_REMINDER, Attempt, critic_messages, hint, programmer_messages, with_reminder
from .report import render_report
from .static import StaticMetrics, static_metrics

__all__ = ["CODE_REMINDER", "SCORE_REMINDER", "Attempt", "CriticReply", "ProgrammerReply", "StaticMetrics",
           "code_block_closed", "critic_messages", "critic_score", "hint", "parse_critic", "parse_programmer",
           "programmer_messages", "render_report", "static_metrics", "with_reminder"]
