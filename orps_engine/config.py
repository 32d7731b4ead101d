"""Every default of orps, and how settings are resolved: flags > environment > ``[tool.orps]`` in
the nearest pyproject.toml (else an ``orps.toml``) > preset > defaults.

``resolve_settings`` is pure: the environment and the folder to search from are arguments.
The API key never comes from a file (a key in a committed file is a leak waiting to happen).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT_TIME_LIMIT_S = 2.0
DEFAULT_MEMORY_LIMIT_MB = 512
DEFAULT_OUTPUT_LIMIT_MB = 64  # a program's stdout; judges allow tens of MB (a problem's outputLimit overrides)
OUTPUT_LIMIT_BYTES = DEFAULT_OUTPUT_LIMIT_MB * 1024 * 1024
# orps listen: Competitive Companion posts each problem to http://localhost:PORT/ (27121 is its
# default, and cph's); a problem's JSON is a few KB, but samples can be large.
DEFAULT_LISTEN_PORT = 27121
LISTEN_BODY_LIMIT_BYTES = 16 * 1024 * 1024
# Address space a run may map beyond what it starts with: a function's run gets its memory limit plus
# this slack; a program, which is judged by resident memory as judges do, gets ADDRESS_SPACE_FACTOR times
# its limit and at least ADDRESS_SPACE_FLOOR_MB more (reserved but untouched memory, as a large thread
# stack for deep recursion, is not memory a judge counts); its peak resident size decides MLE.
ADDRESS_SPACE_SLACK_MB = 64
# A custom checker's own limits (it reads three outputs, perhaps large; it is the user's, not judged).
CHECKER_TIME_LIMIT_S = 10.0
CHECKER_MEMORY_LIMIT_MB = 1024
ADDRESS_SPACE_FACTOR = 4
ADDRESS_SPACE_FLOOR_MB = 1024
FILE_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
OPEN_FILES_LIMIT = 64
PROCESS_LIMIT = 64
STACK_LIMIT_BYTES = 256 * 1024 * 1024
# A run's working directory is a tmpfs of this size and number of files (a test's checker and
# solution share one): what a run writes never reaches the host's disk.
DISK_LIMIT_BYTES = 64 * 1024 * 1024
DISK_FILES_LIMIT = 4096
# The wall-clock deadline: a run that sleeps or blocks is killed at
# max(WALL_FACTOR * time limit, time limit + WALL_SLACK_S).
WALL_FACTOR = 2.0
WALL_SLACK_S = 1.0
# A counted run (its bytecodes, ``sandbox.runtime.opcount``) is traced, 10-40x slower than the
# measured one (``benchmarks/noise.py`` measures it): its CPU and wall-clock limits are the test's
# times this factor. A run that needs more is not counted.
COUNT_SLOWDOWN = 40.0
# Unprivileged uids the sandbox runs as when orps runs as root; one per concurrent sandbox.
SANDBOX_UID_BASE = 61000
SANDBOX_UID_COUNT = 1000
# A project's test run that finds which tests exercise a file: its whole suite, once per change of
# the tests; and what a pytest test's own process may spend besides the code under test (pytest
# starting, collecting, fixtures).
DISCOVERY_TIME_LIMIT_S = 600.0
DISCOVERY_MEMORY_LIMIT_MB = 4096
PYTEST_OVERHEAD_S = 20.0
# A project's own tests have no limits of their own (pytest sets none): a test may take this long
# (CPU, of the code under test) unless the editor's or the command line's limits say otherwise.
PROJECT_TIME_LIMIT_S = 10.0
# ``orps stress``: trials (one generated input each) before it says no difference was found; the
# runs each shrinking phase may spend (other seeds, then the reducer's smaller inputs) and the
# wall-clock time all of shrinking may take; the time limit of the generator and the brute force
# (each run, CPU; a brute force is slow by design, and small inputs are its job).
STRESS_RUNS = 500
STRESS_SHRINK_RUNS = 200
STRESS_SHRINK_S = 30.0
STRESS_HELPER_TIME_LIMIT_S = 10.0

ENV_BASE_URL = "OPENAI_BASE_URL"
ENV_API_KEY = "OPENAI_API_KEY"
ENV_MODEL = "ORPS_MODEL"
# The preset's values apply unless a key is set explicitly (in a file, the environment or a flag).
PRESETS: dict[str, dict[str, Any]] = {
    "interactive": {"samples": 4, "beam": 2, "rounds": 2, "temperature": 0.7},
    "paper": {"samples": 20, "beam": 3, "rounds": 5, "temperature": 0.5},
}
NO_MODEL_HINT = (f"set one with --model NAME, the {ENV_MODEL} environment variable, or model = \"NAME\" under "
                 "[tool.orps] in pyproject.toml (with --base-url / OPENAI_BASE_URL for a local server)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything a refine needs to know; ``api_key`` never appears in a repr or a log."""

    model: str | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    preset: str = "interactive"
    samples: int = 4  # N: programmer samples per beam node and round
    beam: int = 2  # K: candidates kept after each round
    rounds: int = 2  # R: refinement rounds after round 0
    temperature: float = 0.7
    max_in_flight: int = 128  # the ceiling on model calls at once; the limiter adapts below it
    timeout_s: float = 120.0  # per model call
    max_retries: int = 3  # per model call, for 429/5xx/timeouts/refused connections
    prompt_budget: int = 24_000  # characters per prompt; history is cut to fit (and to the context window)
    repeats: int = 5  # runs of the original and the pick when measuring the final delta
    max_tokens: int | None = None  # per reply; None: from what the call needs (see search.budget)
    context_window: int | None = None  # the model's, in tokens; None: ask the server, else learn it
    early_stop: str = "final"  # final: when the beam is all judged final; plateau: also when all pass and a
    # round brings no improvement; never: every round runs

    def describe(self) -> str:
        """A loggable summary: names the key's source state, never the key."""
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "api_key"}
        shown["api_key"] = "set" if self.api_key else "unset"
        return ", ".join(f"{k}={v}" for k, v in shown.items())


EARLY_STOPS = ("final", "plateau", "never")
_INT_KEYS = {"samples": 1, "beam": 1, "rounds": 0, "max_in_flight": 1, "max_retries": 0, "prompt_budget": 2000,
             "max_tokens": 16, "context_window": 256,
             "repeats": 1}
_FLOAT_KEYS = {"temperature": (0.0, 2.0), "timeout_s": (0.1, 3600.0)}
_STR_KEYS = ("model", "base_url", "preset")
_FILE_ALIASES = {"timeout": "timeout_s", "base-url": "base_url", "max-in-flight": "max_in_flight",
                 "max-tokens": "max_tokens", "context-window": "context_window", "early-stop": "early_stop",
                 "max-retries": "max_retries", "prompt-budget": "prompt_budget"}


def resolve_settings(flags: Mapping[str, Any], env: Mapping[str, str], root: Path | None, *,
                     flag_source: str = "the command line") -> Settings:
    """Merge the sources; raise InputError naming the source of any bad value. ``flags`` are the
    highest layer: command-line flags, or an editor's settings (named by ``flag_source``)."""
    file_values, file_path = _file_settings(root) if root is not None else ({}, None)
    env_values = {k: v for k, v in {"base_url": env.get(ENV_BASE_URL), "api_key": env.get(ENV_API_KEY),
                                    "model": env.get(ENV_MODEL)}.items() if v}
    flag_values = {k: v for k, v in flags.items() if v is not None}
    layers = [(str(file_path), file_values), ("the environment", env_values), (flag_source, flag_values)]
    preset, preset_source = "interactive", "the defaults"
    for source, values in layers:
        if "preset" in values:
            preset, preset_source = values["preset"], source
    if preset not in PRESETS:
        raise InputError(f"unknown preset {preset!r} (from {preset_source})",
                         hint=f"choose one of: {', '.join(PRESETS)}")
    merged: dict[str, Any] = {"preset": preset, **PRESETS[preset]}
    for source, values in layers:
        for key, value in values.items():
            merged[key] = _check(key, value, source)
    return replace(Settings(), **merged)


def _check(key: str, value: Any, source: str) -> Any:
    if key in _INT_KEYS:
        if isinstance(value, bool) or not isinstance(value, int) or value < _INT_KEYS[key]:
            raise InputError(f"{key} must be an integer >= {_INT_KEYS[key]} (got {value!r} from {source})")
        return value
    if key in _FLOAT_KEYS:
        low, high = _FLOAT_KEYS[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or not low <= value <= high:
            raise InputError(f"{key} must be a number from {low:g} to {high:g} (got {value!r} from {source})")
        return float(value)
    if key == "early_stop":
        if value not in EARLY_STOPS:
            raise InputError(f"early_stop must be one of {', '.join(EARLY_STOPS)} (got {value!r} from {source})")
        return value
    if key in (*_STR_KEYS, "api_key"):
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{key} must be a non-empty string (got {value!r} from {source})")
        return value.strip()
    raise InputError(f"unknown setting {key!r} in {source}", hint=f"known: {', '.join(_known_keys())}")


def _known_keys() -> list[str]:
    return [f.name for f in fields(Settings) if f.name != "api_key"]


def _file_settings(root: Path) -> tuple[dict[str, Any], Path | None]:
    """``[tool.orps]`` of the nearest pyproject.toml that has one, else the nearest orps.toml."""
    folder = root.resolve()
    for candidate in (folder, *folder.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            tool = _load_toml(pyproject).get("tool")
            table = tool.get("orps") if isinstance(tool, dict) else None
            if table is not None:
                return _normalise(table, pyproject), pyproject
        orps_toml = candidate / "orps.toml"
        if orps_toml.is_file():
            data = _load_toml(orps_toml)
            return _normalise(data.get("orps", data), orps_toml), orps_toml
    return {}, None


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from None


def _normalise(table: Any, path: Path) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise InputError("the orps settings must be a table", path=path)
    out = {}
    for key, value in table.items():
        name = _FILE_ALIASES.get(str(key), str(key)).replace("-", "_")
        if name in ("api_key", "openai_api_key", "key"):
            raise InputError("an API key does not belong in a settings file", path=path,
                             hint=f"remove it, and set {ENV_API_KEY} in the environment (or the editor's secret store)")
        out[name] = value
    return out
