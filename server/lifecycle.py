"""initialize, initialized, workspace/didChangeConfiguration and shutdown: the session's settings
(initializationOptions, then ``workspace/configuration`` for the ``orps`` section) and its end."""

from __future__ import annotations

from lsprotocol import types

from orps_engine import HistoryStore

from . import settings
from .server import OrpsServer


def register(ls: OrpsServer) -> None:
    ls.feature(types.INITIALIZE)(initialize)
    ls.feature(types.INITIALIZED)(initialized)
    ls.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(configuration_changed)
    ls.feature(types.SHUTDOWN)(shutdown)


def initialize(ls: OrpsServer, params: types.InitializeParams) -> None:
    options = settings.read_initialization_options(params.initialization_options)
    ls.api_key, ls.init_options = options.api_key, options.values
    ls.history = HistoryStore(options.storage_folder)
    if not ls.history.saved:
        ls.log_line(f"refine history: {ls.history.problem}")
    ls.log_line(f"orps server starting; settings: {settings.describe(ls.init_options)}; "
                f"API key {'from the client' if ls.api_key else 'from the environment, if set'}")


async def initialized(ls: OrpsServer, params: types.InitializedParams) -> None:
    await refresh_configuration(ls)


async def configuration_changed(ls: OrpsServer, params: types.DidChangeConfigurationParams) -> None:
    await refresh_configuration(ls)


async def refresh_configuration(ls: OrpsServer) -> None:
    """Ask the client for the ``orps`` section, where it can answer."""
    workspace = ls.client_capabilities.workspace
    if workspace is None or not workspace.configuration:
        return
    try:
        answer = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section="orps")]))
    except Exception as exc:  # a client that cannot answer keeps the initializationOptions
        ls.log_line(f"workspace/configuration failed: {exc}")
        return
    ls.client_settings = settings.read_section(answer[0] if answer else None)
    ls.log_line(f"orps settings: {settings.describe(ls.values())}")


async def shutdown(ls: OrpsServer, params: None) -> None:
    await ls.close_all()
