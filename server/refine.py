"""The ``orps.refine`` command: the engine's search with work-done progress the user can cancel.

Argument: ``{"uri", "function"?, "position"?, "version"?}`` (see ``commands.RefineArgs``).
Result: ``{"improved", "summary", "best"}``, ``{"cancelled": true}``, or ``{"failed": true}`` when it
could not run (the server has said why: a refine without ``openai`` names the command installing it).
Cancelling (the progress's cancel button, or cancelling the request) cancels the search: model
calls are abandoned and running candidates killed at once. The result is kept for the code
actions, and a hint diagnostic sits on the target.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from orps_engine import (
    Event,
    InputError,
    Outcome,
    Problem,
    Refinement,
    function_target_at,
    load_problem,
    open_model,
    progress_text,
    refine_line,
)

from . import settings
from .commands import RefineArgs
from .server import DocState, OrpsServer, RefineJob, guarded

if TYPE_CHECKING:
    from orps_engine import OpenAIChatModel


def register(ls: OrpsServer) -> None:
    ls.command("orps.refine")(refine_command)
    ls.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)(progress_cancelled)


# The result of a refine that could not run: the server has said why (a message, or a diagnostic in
# the file), so the client adds no toast of its own.
NOT_RUN: dict[str, Any] = {"failed": True}


@guarded("the ORPS refine", default=NOT_RUN)
async def refine_command(ls: OrpsServer, args: RefineArgs) -> dict[str, Any]:
    state = ls.state(args.uri)
    if state is None:
        raise InputError(f"not a Python file: {args.uri}")
    text, version = ls.text(args.uri)
    if args.version is not None and version is not None and args.version != version:
        raise InputError(f"the document changed (version {version}) since the refine was asked for "
                         f"(version {args.version}); ask again")
    if state.refining is not None:
        ls.show(f"orps: a refine of {state.refining.target} is already running")
        return NOT_RUN
    function = args.function or _function_at(text, args.position)
    loaded = await asyncio.to_thread(load_problem, state.path, function=function, python=ls.python)
    problem = settings.with_limits(loaded.with_source(text), ls.values())
    model = open_model(settings.engine_settings(ls.values(), ls.api_key, state.path.parent))
    try:
        return await _run(ls, state, problem, model, args.progress)
    finally:
        await model.close()


async def _run(ls: OrpsServer, state: DocState, problem: Problem, model: OpenAIChatModel,
               client_token: str | None) -> dict[str, Any]:
    if state.review is not None:  # its refinement is about to be replaced
        state.review = None
        ls.notify_review(state)
    _supersede(ls, state, problem.source)
    token = await _progress(ls, f"ORPS refine: {problem.target}", client_token)
    task = asyncio.create_task(state.run.refine(problem, model.settings, model, on_event=_reporter(ls, token)))
    job = state.refining = RefineJob(target=problem.target, task=task, token=token, request_id=ls.protocol.msg_id)
    ls.notify_status(state)
    try:
        refinement: Refinement = await task
    except asyncio.CancelledError:
        by_progress = task.done()  # the search was cancelled, not this request
        task.cancel()
        _end(ls, token, "cancelled")
        if not by_progress:
            raise
        return {"cancelled": True}
    except BaseException:
        _end(ls, token, "failed")
        raise
    finally:
        if state.refining is job:
            state.refining = None
        ls.notify_status(state)
    summary = refine_line(refinement.result)
    _end(ls, token, summary)
    ls.keep_search(state.uri, refinement.result)
    if state.run.problem is not None:
        ls.publish(state)
    return {"improved": refinement.result.improved, "summary": summary, "best": refinement.result.best.id}


def _supersede(ls: OrpsServer, state: DocState, text: str) -> None:
    """The refine history: the refinement this refine replaces was rejected, unless it is in the file."""
    refinement = state.run.refinement
    if refinement is not None and refinement.is_applied(text):
        ls.decide(state, Outcome.ACCEPTED, "applied")
    elif refinement is not None:
        ls.decide(state, Outcome.REJECTED, "superseded by a new refine")


def _function_at(text: str, position: types.Position | None) -> str | None:
    """The method or top-level function the cursor is in, by qualified name (None: let the tests decide)."""
    if position is None:
        return None
    target = function_target_at(text, position.line + 1)
    return target.qualname if target is not None else None


def _reporter(ls: OrpsServer, token: str | None) -> Any:
    def on_event(event: Event) -> None:
        if token is not None:
            ls.work_done_progress.report(token, types.WorkDoneProgressReport(
                message=progress_text(event), percentage=_percentage(event), cancellable=True))

    return on_event


def _percentage(event: Event) -> int:
    done_rounds = event.round + (event.done / event.total if event.total else 0)
    return min(99, int(100 * done_rounds / max(1, event.rounds)))


def progress_cancelled(ls: OrpsServer, params: types.WorkDoneProgressCancelParams) -> None:
    for state in ls.docs.values():
        job = state.refining
        if job is not None and job.token == params.token:
            job.task.cancel()
            ls.log_line(f"refine of {job.target} cancelled by the user")


async def _progress(ls: OrpsServer, title: str, client_token: str | None) -> str | None:
    """The refine's progress token: the client's own when it sent one (it already shows it), else one
    the server asks the client to create, if the client supports work-done progress."""
    if client_token is not None:
        token = client_token
    else:
        window = ls.client_capabilities.window
        if window is None or not window.work_done_progress:
            return None
        token = f"orps-refine-{uuid.uuid4().hex[:8]}"
        await ls.work_done_progress.create_async(token)
    ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, cancellable=True, percentage=0,
                                                                   message="running the original's tests"))
    return token


def _end(ls: OrpsServer, token: str | None, message: str) -> None:
    if token is not None:
        ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))
