"""``orps refine FILE``: search for a better version of FILE's target with the ORPS method.

Prints the best candidate as a diff, its critique and a before/after table. The file is only
changed with --write, after saving FILE.orig. ``FILE::NAME`` (or ``--function NAME``) names the
target: a function, or a method as ``Class.method``, whose decorators and class stay as they are.
Exit codes: 0 done (improved or not), 2 bad input or configuration, 3 the model could not be
reached at all.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from ..config import PRESETS, Settings, resolve_settings
from ..errors import InputError
from ..file_run import FileRun, Refinement
from ..model import ChatModel, Recorder, Recording, ReplayChatModel, open_model
from ..problem import Problem
from ..problem.load import source_encoding
from ..problem.target import function_name
from ..report.refine import format_refine, progress_text, refine_document
from ..search import Event, EventKind
from . import problem_args
from .fileref import split_target
from .progress import Progress, bar

RECORDING_NOTE = "Model exchanges of an orps refine, recorded with --record; replay them with --replay."


def register(commands: Any) -> None:
    parser = commands.add_parser("refine", help="search for a better version with a model (ORPS)",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    problem_args.add(parser, function_help="the function to refine (NAME or Class.method; default: the tested one)")
    parser.add_argument("--model", help="model name (or ORPS_MODEL, or model in [tool.orps])")
    parser.add_argument("--base-url", dest="base_url", metavar="URL",
                        help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 (or OPENAI_BASE_URL)")
    parser.add_argument("--preset", choices=sorted(PRESETS), help="interactive (N=4, K=2, R=2) or paper (20, 3, 5)")
    parser.add_argument("--samples", type=int, metavar="N", help="programmer samples per node and round")
    parser.add_argument("--beam", type=int, metavar="K", help="candidates kept after each round")
    parser.add_argument("--rounds", type=int, metavar="R", help="refinement rounds after round 0")
    parser.add_argument("--temperature", type=float)
    parser.add_argument("--max-in-flight", dest="max_in_flight", type=int, metavar="N", help="model calls at once")
    parser.add_argument("--timeout", dest="timeout_s", type=float, metavar="S", help="seconds per model call")
    parser.add_argument("--max-retries", dest="max_retries", type=int, metavar="N")
    parser.add_argument("--prompt-budget", dest="prompt_budget", type=int, metavar="CHARS")
    parser.add_argument("--repeats", type=int, metavar="N", help="runs each when measuring the final delta")
    parser.add_argument("--max-tokens", dest="max_tokens", type=int, metavar="N",
                        help="tokens per reply (default: what each call needs, at most half the context window)")
    parser.add_argument("--context-window", dest="context_window", type=int, metavar="TOKENS",
                        help="the model's context window (default: asked of the server, else learned from its errors)")
    parser.add_argument("--early-stop", dest="early_stop", choices=("final", "plateau", "never"),
                        help="final (default): stop when every candidate of the beam is judged final; plateau: also "
                             "when all tests pass and a round brings no improvement; never: run every round")
    record = parser.add_mutually_exclusive_group()
    record.add_argument("--record", type=Path, metavar="FILE", help="write every model exchange to FILE (JSONL)")
    record.add_argument("--replay", type=Path, metavar="FILE", help="answer from a recording, with no network")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--write", action="store_true", help="replace the target in FILE (saving FILE.orig first)")
    parser.set_defaults(handler=lambda args: run(split_target(parser, args)))


_SETTING_FLAGS = ("model", "base_url", "preset", "samples", "beam", "rounds", "temperature", "max_in_flight",
                  "timeout_s", "max_retries", "prompt_budget", "repeats", "max_tokens", "context_window", "early_stop")


def run(args: argparse.Namespace) -> int:
    problem = problem_args.load(args)
    flags = {name: getattr(args, name) for name in _SETTING_FLAGS}
    recording = Recording.load(args.replay) if args.replay else None
    if recording is not None:  # replay with the settings it was recorded with, unless told otherwise
        recorded = recording.header.get("settings", {})
        flags = {**{k: v for k, v in recorded.items() if k in _SETTING_FLAGS}, **{k: v for k, v in flags.items()
                                                                              if v is not None}}
    settings = resolve_settings(flags, os.environ, problem.path.parent)
    model, recorder = _model(args, settings, problem, recording)
    progress = Progress(sys.stderr)
    try:
        refinement = asyncio.run(_refine(problem, settings, model, progress))
    finally:
        progress.close()
        if recorder is not None:
            recorder.close()
    result = refinement.result
    if recording is not None and recording.header.get("fingerprint") != fingerprint(problem):
        result.warnings.append("the file or its tests changed since the recording was made")
    if args.write and result.improved:
        result.warnings.append(_write(problem, refinement))
    print(json.dumps(refine_document(result), indent=2) if args.json else format_refine(result))
    return 0


async def _refine(problem: Problem, settings: Settings, model: ChatModel, progress: Progress) -> Refinement:
    def on_event(event: Event) -> None:
        text = progress_text(event)
        if event.kind in (EventKind.ROUND, EventKind.CANDIDATE):
            text = f"{bar(event.done, event.total)} {text}"
        progress.show(text, transient=event.kind is EventKind.CANDIDATE)

    try:
        async with FileRun(problem.path) as run:
            return await run.refine(problem, settings, model, on_event=on_event)
    finally:
        await model.close()


def _model(args: argparse.Namespace, settings: Settings, problem: Problem,
           recording: Recording | None) -> tuple[ChatModel, Recorder | None]:
    if recording is not None:
        return ReplayChatModel(args.replay, recording=recording), None
    recorder = None
    if args.record:
        header = {"note": RECORDING_NOTE, "file": problem.path.name, "function": function_name(problem.target),
                  "model": settings.model, "fingerprint": fingerprint(problem),
                  "settings": {k: getattr(settings, k) for k in ("samples", "beam", "rounds", "temperature")}}
        recorder = Recorder(args.record, header)
    return open_model(settings, recorder=recorder), recorder


def fingerprint(problem: Problem) -> str:
    """Identifies the code and tests a recording was made against."""
    digest = hashlib.sha256(problem.source.encode())
    for test in problem.tests:
        digest.update(repr((test.input, test.expected, test.source, test.want)).encode())
    return digest.hexdigest()[:16]


def _write(problem: Problem, refinement: Refinement) -> str:
    """Replace FILE's target, keeping the original as FILE.orig (or FILE.orig.N if taken)."""
    path = problem.path
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read before writing: {exc.strerror}", path=path) from None
    encoding = source_encoding(raw, path)
    current = raw.decode(encoding, errors="replace")
    if current != problem.source:
        raise InputError("the file changed while the refine ran; nothing was written", path=path,
                         hint="run the refine again on the current file")
    new_source = refinement.applied_to(current)
    backup = path.with_name(path.name + ".orig")
    n = 1
    while backup.exists():
        backup = path.with_name(f"{path.name}.orig.{n}")
        n += 1
    shutil.copy2(path, backup)
    tmp = path.with_name(f".{path.name}.orps-tmp")
    with tmp.open("w", encoding=encoding, newline="") as fh:  # as Python reads it (PEP 263)
        fh.write(new_source)
    shutil.copymode(path, tmp)
    os.replace(tmp, path)
    return f"wrote the refined code to {path}; the original is saved as {backup}"
