#!/bin/bash
# Shows the instance's hosts: SSH address, lab address and systemd state.
# Usage: status.sh     Exits 1 when the instance is not up.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"
lab_need_root
if [ ! -f "$LAB_STATE/hosts.json" ]; then
  echo "instance $LAB_NAME: down"
  exit 1
fi
echo "instance $LAB_NAME: $LAB_STATE/hosts.json"
printf '%-5s %-18s %-12s %s\n' HOST SSH LAB SYSTEMD
for d in "$LAB_STATE"/hosts/h*; do
  i=${d##*/h}
  state=$(lab_exec "$i" systemctl is-system-running 2>/dev/null) || state=${state:-stopped}
  printf '%-5s %-18s %-12s %s\n' "h$i" "$(lab_lo_addr "$i"):$LAB_SSH_PORT" "$(lab_net_addr "$i")" "$state"
done | sort -V
