"""Entry point of the zygote process: ``python -s -B boot.py CTL_FD``.

Loads this directory as the package ``_orps_runtime`` (so the sandbox never imports the
engine), then hands over to the zygote.
"""

import importlib.util
import os
import sys


def _load_runtime() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        "_orps_runtime", os.path.join(here, "__init__.py"), submodule_search_locations=[here])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["_orps_runtime"] = module
    spec.loader.exec_module(module)


if __name__ == "__main__":
    sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != os.path.dirname(os.path.abspath(__file__))]
    _load_runtime()
    from _orps_runtime import zygote  # type: ignore[import-not-found]

    zygote.main()
