"""``python -m orps_server``: the language server is not part of this release yet."""

import sys

print("orps: the language server is not implemented yet (planned: Roadmap 3/8); "
      "use the `orps test` command meanwhile", file=sys.stderr)
sys.exit(2)
