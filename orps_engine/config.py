"""Every default of orps, in one place.

Limits here are the policy the sandbox applies when a problem does not set its own; the
problem loaders and the CLI read them from here and nowhere else.
"""

from __future__ import annotations

DEFAULT_TIME_LIMIT_S = 2.0
DEFAULT_MEMORY_LIMIT_MB = 512
OUTPUT_LIMIT_BYTES = 8 * 1024 * 1024
FILE_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
OPEN_FILES_LIMIT = 64
PROCESS_LIMIT = 64
STACK_LIMIT_BYTES = 256 * 1024 * 1024
# The wall-clock deadline: a run that sleeps or blocks is killed at
# max(WALL_FACTOR * time limit, time limit + WALL_SLACK_S).
WALL_FACTOR = 2.0
WALL_SLACK_S = 1.0
# Unprivileged uids the sandbox runs as when orps runs as root; one per concurrent sandbox.
SANDBOX_UID_BASE = 61000
SANDBOX_UID_COUNT = 1000
DEFAULT_COMPARE = "tokens"
