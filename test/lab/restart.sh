#!/bin/bash
# "Reboots" hosts: halts systemd, gives the host a fresh network namespace (runtime bridges,
# firewall rules and net.* sysctls are gone, as after a real reboot) and boots the same root fs
# again (files, installed packages and enabled units stay). Its SSH address keeps working.
# Usage: restart.sh N [N...]
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"
lab_need_root
[ $# -ge 1 ] || lab_die "usage: restart.sh N [N...]"
for i in "$@"; do
  t=$(date +%s%N)
  d=$(lab_hostdir "$i")
  mountpoint -q "$d/root" || lab_die "no host h$i in $LAB_STATE"
  f=$(lab_host_flavour "$i")
  lab_flavour_hook "$f" stop "$i"
  lab_net_delete "$i"
  lab_net_create "$i"
  lab_flavour_hook "$f" start "$i"
  lab_wait_ssh "$i"
  lab_log "h$i restarted in $(lab_since "$t") s"
done
