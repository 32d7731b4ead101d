"""``python -m orps_server [--tcp HOST:PORT]``: the orps language server (stdio by default)."""

import sys

from .app import main

sys.exit(main())
