#!/bin/bash
# Cuts host N off from the root namespace: stops its loopback forwarder, so <lo-prefix>.N refuses
# connections and the host is reachable only from other lab hosts, on the lab network (a target
# behind a bastion). Its namespace, files and services are untouched; `down` removes it as usual.
# Usage: isolate.sh N
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"
lab_need_root
i=${1:-}
[[ $i =~ ^[0-9]+$ ]] || lab_die "usage: isolate.sh N"
d=$(lab_hostdir "$i")
[ -e "$d/forwarder.pid" ] || lab_die "no host h$i in $LAB_STATE"
lab_unspawn "$d/forwarder"
rm -f "$d/forwarder.pid"
