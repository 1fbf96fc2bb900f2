#!/usr/bin/env bash
# Install the named Debian packages that are missing (as root, or through sudo); quiet when all are there.
#   usage: scripts/apt-install.sh WHO PACKAGE...     (WHO prefixes the progress line)
set -euo pipefail
who=$1
shift
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
as_root=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "$who: run this as root (apt-get needs it)" >&2; exit 1; }
  as_root=(sudo)
fi
echo "$who: installing ${missing[*]}" >&2
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
