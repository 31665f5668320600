#!/bin/bash
# Removes every host of the instance, its lab switch and services, and its state folder.
# Safe to run at any time, also after a crash and when nothing is up.
# It stops only what the lab started:
#   - recorded PIDs, each checked against its command line (lab_pid_is_ours);
#   - then whatever is left in the instance's own cgroups (the containers' processes), which
#     only our own processes and their children can be in;
#   - namespaces and mounts named after the instance or under its state folder.
# Usage: down.sh [--keep-state]    --keep-state keeps logs and upper folders for a post-mortem.
# The cached base is always kept.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"
lab_need_root
keep=0
[ "${1:-}" = --keep-state ] && keep=1
T0=$(date +%s%N)

stop_host() {
  local i=$1 d
  d=$(lab_hostdir "$i")
  lab_unspawn "$d/forwarder"
  lab_flavour_hook "$(lab_host_flavour "$i")" stop "$i"
  if mountpoint -q "$d/root"; then umount "$d/root" 2>/dev/null || umount -l "$d/root"; fi
  lab_net_delete "$i"
}

# Hosts halt in parallel: a clean systemd shutdown takes a second or two each.
pids=()
for d in "$LAB_STATE"/hosts/h*; do
  [ -d "$d" ] || continue
  stop_host "${d##*/h}" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done

for f in "$LAB_STATE"/lab/*.pid; do
  [ -e "$f" ] && lab_unspawn "${f%.pid}"
done

# Leftovers of a crashed run whose records are gone.
for cg in $(lab_cgroups services); do
  for leaf in "${cg%/services}"/*/; do
    [ -d "$leaf" ] && lab_cgroup_sweep "$(basename "$leaf")"
  done
  rmdir "${cg%/services}" 2>/dev/null || true
done
awk -v s="$LAB_STATE/" 'index($2, s) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
  umount "$m" 2>/dev/null || umount -l "$m"
done
for ns in $(ip netns list | awk '{ print $1 }' | grep -E "^$LAB_PREFIX-(h[0-9]+|sw)$" || true); do
  ip netns del "$ns"
done

if [ $keep = 0 ]; then lab_remove_state; fi
lab_log "down in $(lab_since "$T0") s"
