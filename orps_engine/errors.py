"""The OrpsError hierarchy: every error a user can cause or meet, each with its exit code.

Messages say what happened and where; ``hint`` says what to do next. The CLI and the server
turn these into output in one place each; nothing else catches them broadly.
"""

from __future__ import annotations

import shlex
from pathlib import Path


class OrpsError(Exception):
    """Base class; an unclassified error is our bug (exit 70)."""

    exit_code = 70

    def __init__(self, message: str, *, path: Path | str | None = None, line: int | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.hint = hint

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        return where + self.message


class InputError(OrpsError):
    """Missing file, no tests found, malformed tests, bad or missing configuration."""

    exit_code = 2


class NoTestsFound(InputError):
    """The file has no tests in any of the places orps looks."""


class MissingPackage(InputError):
    """The interpreter lacks a package this needs (openai for a refine, pytest for a project's
    tests): said where the user looks, with the interpreter and the command that installs it
    (``install_command``), not taken for a file without tests."""


def install_command(python: str, package: str) -> str:
    """The shell command that installs ``package`` for ``python``."""
    return f"{shlex.quote(python)} -m pip install {package}"


class ModelUnreachable(OrpsError):
    """No call to the model ever succeeded."""

    exit_code = 3


class HarnessError(OrpsError):
    """The sandbox or the host failed; never a verdict on the solution."""

    exit_code = 70


class PortBusy(InputError):
    """The port to listen on is taken (cph listens on Competitive Companion's 27121 too);
    ``free_port`` is the next one that is free, if any is near."""

    def __init__(self, port: int, free_port: int | None) -> None:
        offer = f"; port {free_port} is free" if free_port is not None else ""
        super().__init__(f"port {port} is busy: another program listens there (cph uses 27121 too){offer}")
        self.port = port
        self.free_port = free_port
