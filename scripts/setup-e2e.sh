#!/usr/bin/env bash
# Install a real VS Code for kwb's end-to-end test, offline: code-server 4.100.3 (VS Code 1.100.3's server and web
# UI) from the npm registry, driven by playwright-core (a devDependency of kwb) and Debian's Chromium. Nothing is downloaded from anywhere
# but the npm registry and Debian. Installs into ${KWB_E2E_DIR:-~/.cache/kwb/code-server}; a second run is a no-op.
set -euo pipefail
dir=${KWB_E2E_DIR:-${KWB_CACHE:-$HOME/.cache/kwb}/code-server}
version=4.100.3
stamp=$dir/.kwb-ready-$version
[ -f "$stamp" ] && { echo "setup-e2e: ready in $dir" >&2; exit 0; }

"$(dirname "$(realpath "$0")")/apt-install.sh" setup-e2e build-essential python3 libkrb5-dev ripgrep chromium
# node-gyp must build against the local node headers, not download them
node_prefix=$(dirname "$(dirname "$(command -v node)")")
export npm_config_nodedir=${npm_config_nodedir:-$node_prefix}

mkdir -p "$dir" && cd "$dir"
[ -f package.json ] || npm init -y >/dev/null
echo "setup-e2e: installing code-server $version (a few minutes)" >&2
# no install scripts: code-server's would fetch ripgrep from GitHub
npm install --ignore-scripts --save-exact --no-audit --no-fund "code-server@$version" >/dev/null
npm rebuild argon2 >/dev/null
cd node_modules/code-server/lib/vscode
npm install --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null
mkdir -p node_modules/@vscode/ripgrep/bin
cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
npm_config_yes=true npm rebuild kerberos @vscode/spdlog native-watchdog node-pty @vscode/deviceid \
  @vscode/windows-process-tree @vscode/windows-registry @parcel/watcher @vscode/ripgrep >/dev/null
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sfn code-linux.sh code-server)
(cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
(cd extensions && npm install --omit=dev --no-audit --no-fund >/dev/null)
"$dir/node_modules/.bin/code-server" --config /dev/null --version >&2
touch "$stamp"
echo "setup-e2e: ready in $dir" >&2
