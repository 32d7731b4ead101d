"""Entry point of the zygote process: ``python -s -B boot.py CTL_FD``.

Loads this directory as the package ``_orps_runtime`` (so the sandbox never imports the
engine), then hands over to the zygote. Written so that any Python can read it: one older than
the runtime needs says so on stderr (the parent turns that into an error about ``--python``).
"""

import importlib.util
import os
import sys
import time


def _started_rss_kb():  # type: () -> int
    """The interpreter's own peak resident size after start-up, before orps loads anything: what a
    program's memory figure starts from, as ``python3 prog.py``'s does. From ``VmHWM`` (this
    process image's own): ``ru_maxrss`` keeps the peak of the process that exec'd it."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


STARTED_RSS_KB = _started_rss_kb()
# And the CPU its start-up took: a judge's time for ``python3 prog.py`` counts it.
STARTUP_CPU_MS = time.process_time() * 1000

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

    zygote.main(STARTED_RSS_KB, STARTUP_CPU_MS)
