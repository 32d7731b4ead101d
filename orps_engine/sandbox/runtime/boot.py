"""Entry point of the zygote process: ``python -s -B boot.py CTL_FD``.

Loads this directory as the package ``_orps_runtime`` (so the sandbox never imports the
engine), then hands over to the zygote. Written so that any Python can read it: one older than
the runtime needs says so on stderr (the parent turns that into an error about ``--python``).
"""

import importlib.util
import os
import sys

VERSION_MESSAGE = "orps runs code with Python 3.10 or newer"


def _load_runtime():  # type: () -> None
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        "_orps_runtime", os.path.join(here, "__init__.py"), submodule_search_locations=[here])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["_orps_runtime"] = module
    spec.loader.exec_module(module)


if __name__ == "__main__":
    if sys.version_info < (3, 10):  # noqa: UP036 (an older Python reads this file to say it is too old)
        sys.stderr.write("%s; %s is Python %d.%d\n" % ((VERSION_MESSAGE, sys.executable) + sys.version_info[:2]))  # noqa: UP031, RUF005
        sys.exit(3)
    sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != os.path.dirname(os.path.abspath(__file__))]
    _load_runtime()
    from _orps_runtime import zygote  # type: ignore[import-not-found]

    zygote.main()
