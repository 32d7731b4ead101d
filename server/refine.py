"""The ``orps.refine`` command: the engine's search with work-done progress the user can cancel.

Arguments: a document URI and a position or a function name (or one object with ``uri``,
``position``/``function``). Cancelling (the progress's cancel button, or cancelling the request)
cancels the search: model calls are abandoned and running candidates killed at once. The result
is kept for the code actions, and a hint diagnostic sits on the function.
"""

from __future__ import annotations

import ast
import asyncio
import uuid
from typing import Any

from lsprotocol import types

from orps_engine.errors import InputError
from orps_engine.model import OpenAIChatModel
from orps_engine.problem import Problem, load_problem
from orps_engine.problem.target import target_source
from orps_engine.report.refine import progress_text, refine_line
from orps_engine.search import Event, RefineResult, refine

from . import settings
from .diagnostics import publish
from .server import OrpsServer, RefineState, guarded, server


@server.command("orps.refine")
@guarded("the ORPS refine")
async def refine_command(ls: OrpsServer, *args: Any) -> dict[str, Any] | None:
    uri, position, function = _arguments(args)
    state = ls.state(uri)
    if state is None:
        raise InputError(f"not a Python file: {uri}")
    text, version = ls.text(uri)
    problem = load_problem(state.path, function=function or _function_at(text, position)).with_source(text)
    problem = settings.with_limits(problem, ls.values())
    target = problem.target
    if state.refine is not None and state.refine.task is not None and not state.refine.task.done():
        ls.show(f"orps: a refine of {state.refine.target} is already running")
        return None
    model = OpenAIChatModel(settings.engine_settings(ls.values(), ls.api_key, state.path.parent))
    refine_state = RefineState(target=target, started_version=version, target_source=target_source(text, target))
    state.refine = refine_state
    token = await _progress(ls, f"ORPS refine: {target}")
    refine_state.token = token
    refine_state.request_id = ls.protocol.msg_id
    refine_state.task = asyncio.create_task(_search(ls, problem, model, token))
    ls.notify_status(state, refining=True)
    try:
        result = await refine_state.task
    except asyncio.CancelledError:
        by_progress = refine_state.task.done()  # the search was cancelled, not this request
        refine_state.task.cancel()
        _end(ls, token, "cancelled")
        if state.refine is refine_state:
            state.refine = None
        if not by_progress:
            raise
        return {"cancelled": True}
    except BaseException:
        _end(ls, token, "failed")
        state.refine = None
        raise
    finally:
        await model.close()
        ls.notify_status(state, refining=False)
    refine_state.result = result
    _end(ls, token, refine_line(result))
    if state.problem is not None:
        publish(ls, state)
    return {"improved": result.improved, "summary": refine_line(result), "best": result.best.id}


async def _search(ls: OrpsServer, problem: Problem, model: OpenAIChatModel, token: str | None) -> RefineResult:
    def on_event(event: Event) -> None:
        if token is not None:
            percentage = _percentage(event)
            ls.work_done_progress.report(token, types.WorkDoneProgressReport(
                message=progress_text(event), percentage=percentage, cancellable=True))

    return await refine(problem, model.settings, model, on_event=on_event)


def _percentage(event: Event) -> int:
    done_rounds = event.round + (event.done / event.total if event.total else 0)
    return min(99, int(100 * done_rounds / max(1, event.rounds)))


@server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
def progress_cancelled(ls: OrpsServer, params: types.WorkDoneProgressCancelParams) -> None:
    for state in ls.docs.values():
        refine_state = state.refine
        if refine_state is not None and refine_state.token == params.token and refine_state.task is not None:
            refine_state.task.cancel()
            ls.log_line(f"refine of {refine_state.target} cancelled by the user")


async def _progress(ls: OrpsServer, title: str) -> str | None:
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


def _arguments(args: tuple[Any, ...]) -> tuple[str, types.Position | None, str | None]:
    if args and isinstance(args[0], dict):
        spec = args[0]
        uri, raw_position, function = spec.get("uri"), spec.get("position"), spec.get("function")
    else:
        uri = args[0] if args else None
        second = args[1] if len(args) > 1 else None
        raw_position = second if isinstance(second, dict) else None
        function = second if isinstance(second, str) else None
    if not isinstance(uri, str):
        raise InputError("orps.refine needs a document URI and a position or a function name")
    position = None
    if isinstance(raw_position, dict):
        position = types.Position(line=int(raw_position.get("line", 0)),
                                  character=int(raw_position.get("character", 0)))
    if function == "the program":
        function = None
    return uri, position, function


def _function_at(text: str, position: types.Position | None) -> str | None:
    """The top-level function the cursor is in (None: let the tests decide)."""
    if position is None:
        return None
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    line = position.line + 1
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            if first <= line <= (node.end_lineno or node.lineno):
                return node.name
    return None
