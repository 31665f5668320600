#!/bin/bash
# Removes VM host hI of the running instance: its forwarder, qemu and VLAN relay (recorded PIDs
# checked against their command lines, then the host's own cgroup), its taps, its entries in
# the client files, and its folder (overlay disk included; the cached image stays).
# down.sh of the lab removes VMs too; this takes one away while the instance stays up.
# Usage: vm/down.sh I [--keep-state]
set -euo pipefail
# shellcheck source=../lib.sh
. "$(dirname "$(readlink -f "$0")")/../lib.sh"
# shellcheck source=lib.sh
. "$LAB_HERE/vm/lib.sh"
lab_need_root
I=${1:?usage: vm/down.sh I [--keep-state]}
[[ $I =~ ^[0-9]+$ ]] || lab_die "usage: vm/down.sh I [--keep-state]"
d=$(vm_dir "$I")
[ -d "$d" ] || exit 0
[ -f "$d/disk.qcow2" ] || [ -f "$d/seed.img" ] || [ ! -e "$d/root" ] || lab_die "h$I is not a VM"
lab_unspawn "$d/forwarder"
# The disk is thrown away: no need for a clean shutdown.
for p in qemu relay; do lab_unspawn "$d/$p"; done
lab_cgroup_sweep "h$I"
for k in 0 1 2; do ip -n "$LAB_SWITCH_NS" link del "$(vm_tap "$I" "$k")" 2>/dev/null || true; done
if [ -f "$LAB_STATE/hosts.json" ]; then
  exec 8>"$LAB_STATE/.clients.lock"
  flock 8
  python3 - "$LAB_STATE" "$I" "$(lab_lo_addr "$I")" <<'EOP'
import json, sys
state, index, lo = sys.argv[1], int(sys.argv[2]), sys.argv[3]
hosts = [h for h in json.load(open(f'{state}/hosts.json')) if h['index'] != index]
with open(f'{state}/hosts.json.tmp', 'w') as f:
    json.dump(hosts, f, indent=1)
    f.write('\n')
known = [l for l in open(f'{state}/known_hosts') if l.split(' ')[0] not in (lo, f'[{lo}]')]
open(f'{state}/known_hosts', 'w').writelines(known)
blocks = open(f'{state}/ssh_config').read().split('Host ')
kept = [b for b in blocks if b.split('\n')[0].strip() != f'h{index}']
open(f'{state}/ssh_config', 'w').write('Host '.join(kept))
EOP
  mv "$LAB_STATE/hosts.json.tmp" "$LAB_STATE/hosts.json"
fi
if [ "${2:-}" != --keep-state ]; then rm -rf --one-file-system "$d"; fi
lab_log "vm h$I down"
