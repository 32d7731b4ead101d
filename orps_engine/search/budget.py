"""How big a prompt and a reply may be, in the model's terms: tokens, within its context window.

Prompts are built to a character budget (``critic.prompts``); the window is in tokens. Characters
per token are estimated at 2.8 (measured on orps's own prompts with a small model's tokenizer)
until the server's counts of real prompts say otherwise: the smallest ratio seen wins, so the
estimate only errs towards shorter prompts. A reply gets room for what its call needs (a
rewrite of the target: about twice its tokens, plus the reasoning; a review: 768 tokens), unless
``max_tokens`` says otherwise, and never more than half the window.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config import Settings

CHARS_PER_TOKEN = 2.8
CRITIC_REPLY_TOKENS = 768
PROGRAMMER_REPLY_TOKENS = (512, 4096)  # the least and the most room a rewrite gets
REASONING_TOKENS = 768
MARGIN_TOKENS = 64  # the chat template's own tokens
MIN_PROMPT_CHARS = 1000  # below this the task itself does not fit


class ContextTooSmall(Exception):
    """The model's context window cannot hold the task and a reply."""


@dataclass
class Budget:
    settings: Settings
    window: int | None = None  # the context window in tokens, when known
    chars_per_token: float = CHARS_PER_TOKEN
    shrunk: int = 0  # prompts cut down to fit the window
    smallest_prompt_chars: int | None = field(default=None)

    def reply_tokens(self, role: str, code_chars: int) -> int:
        if self.settings.max_tokens is not None:
            wanted = self.settings.max_tokens
        elif role == "critic":
            wanted = CRITIC_REPLY_TOKENS
        else:
            low, high = PROGRAMMER_REPLY_TOKENS
            wanted = min(high, max(low, int(2 * code_chars / self.chars_per_token) + REASONING_TOKENS))
        return min(wanted, self.window // 2) if self.window is not None else wanted

    def prompt_chars(self, reply_tokens: int) -> int:
        """The character budget of a prompt whose reply gets ``reply_tokens``."""
        chars = self.settings.prompt_budget
        if self.window is not None:
            fits = int((self.window - reply_tokens - MARGIN_TOKENS) * self.chars_per_token)
            if fits < chars:
                chars = fits
                self.shrunk += 1
        if chars < MIN_PROMPT_CHARS:
            raise ContextTooSmall(self.too_small())
        self.smallest_prompt_chars = min(chars, self.smallest_prompt_chars or chars)
        return chars

    def learn(self, prompt_chars: int, prompt_tokens: int | None) -> None:
        """A real prompt's size in the server's tokens."""
        if prompt_tokens and prompt_tokens > 0:
            self.chars_per_token = min(self.chars_per_token, prompt_chars / prompt_tokens)

    def learn_window(self, window: int | None, prompt_chars: int, reply_tokens: int) -> None:
        """The server refused a prompt as too long: take the window it named, else assume the
        prompt and its reply were a fifth too many."""
        if window is not None:
            self.window = window
        else:
            used = int(prompt_chars / self.chars_per_token) + reply_tokens
            self.window = int(min(self.window or used, used) * 0.8)

    def too_small(self) -> str:
        need = int(MIN_PROMPT_CHARS / self.chars_per_token) + CRITIC_REPLY_TOKENS + MARGIN_TOKENS
        return (f"the model's context window ({self.window} tokens) is too small for this target's prompts "
                f"(they need at least about {need} tokens): serve the model with a larger context "
                f"(llama.cpp: --n_ctx / -c), or set context_window if the server reports too small a one")
