"""The orps language server as the editor extension starts it (``orps.importStrategy``
``useBundled``): ``python lsp_server.py [server args]``.

It puts ``bundled/libs`` (orps and its pure-Python dependencies, installed there when the
extension is packaged) first on this process's ``sys.path``, in place of this script's folder, and
runs the server; so any CPython 3.10+ with only its standard library can run it. Not through
``PYTHONPATH``: that would reach the sandboxed runs of the user's code, which must import only what
their own interpreter has (the sandbox starts its interpreter with a clean environment and never
sees this process's ``sys.path``).

``--check`` only tells whether the server can start: exit 0, or a message on stderr and exit 3.
Standard library only, and readable by any Python 3, so that an older one says it is too old.
"""

import os
import sys

LIBS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "libs")
CANNOT_START = 3  # the exit status of --check, and of a start, when the server cannot run here


def _problem():  # type: () -> str | None
    """Why the server cannot start with this interpreter and this bundle, or None."""
    if sys.version_info < (3, 10):  # noqa: UP036 (an older Python runs this file to say so)
        return "orps needs Python 3.10 or newer; " + sys.executable + " is Python " + sys.version.split()[0]
    if not os.path.isfile(os.path.join(LIBS, "orps_server", "__init__.py")):
        return ("this build of the extension has no bundled server (" + LIBS + " is missing or incomplete): "
                "build it with `npm run bundle`, or set orps.importStrategy to fromEnvironment")
    return None


def main(argv):  # type: (list[str]) -> int
    problem = _problem()
    if problem is not None:
        sys.stderr.write("orps: " + problem + "\n")
        return CANNOT_START
    sys.path[0] = LIBS  # this script's folder holds nothing to import
    if argv[:1] == ["--check"]:
        import orps_server.app  # noqa: F401 (importing it is the check)

        return 0
    from orps_server.app import main as serve

    return serve(argv, prog="python " + os.path.basename(__file__))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
