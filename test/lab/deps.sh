#!/bin/bash
# Installs the Debian packages the test lab needs on the machine that runs it.
# Idempotent: when everything is present it only asks dpkg and returns (well under a second).
# Usage: deps.sh [--apt-proxy] [--bench] [extra-package...]
#   --apt-proxy  also installs apt-cacher-ng, for OTOPI_LAB_APT_PROXY=1
#   --bench      also installs ansible-core, the peer of npm run bench:deploy and bench:tasks
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "deps.sh: must run as root" >&2; exit 1; }

# iptables is only used read-only in the root namespace, to prove the hosts' rules stay in the hosts.
# python3 serves the fake apt repo inside the lab switch namespace.
# tmux drives the human-dialect terminal tests; rpm checks our rpm version comparison, and with
# createrepo-c builds the lab's rpm repository for the dnf path (packages/rpm.sh).
want=(iproute2 util-linux socat systemd-container debootstrap openssh-client dpkg-dev iptables python3 tmux rpm createrepo-c)
for arg in "$@"; do
  case $arg in
    --apt-proxy) want+=(apt-cacher-ng) ;;
    --bench) want+=(ansible-core) ;;
    -*) echo "deps.sh: unknown option $arg" >&2; exit 2 ;;
    *) want+=("$arg") ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0

echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
install() { apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
# Refresh the package lists only when they are absent or too old to install from.
if ! compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null || ! install; then
  apt-get update -qq
  install
fi
