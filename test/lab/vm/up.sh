#!/bin/bash
# Adds a virtual machine, host hI, to the running lab instance: Debian with its own kernel
# (the image of build-image.sh, built on first use), booted by qemu from a qcow2 overlay of its
# own. Three NICs: eth0 and eth1 are taps on the lab switch, eth2 a VLAN trunk whose VLAN 100
# reaches the switch untagged (vlan-relay.py). LAYOUT says what carries its lab address:
#   bond  bond0 (active-backup, eth0 + eth1), with a default route through the switch
#   vlan  eth2.100 (VLAN 100 on eth2), with the same default route
# Reached like a container host: <lo-prefix>.I:22 forwards into the switch namespace, to the
# VM's lab address; its ed25519 host key is pinned in hosts.json, ssh_config and known_hosts.
# The qemu guest agent (socket agent.sock in its folder) runs commands in it without the network.
# Usage: vm/up.sh I LAYOUT      (the instance must be up: npm run lab -- up N)
set -euo pipefail
# shellcheck source=../lib.sh
. "$(dirname "$(readlink -f "$0")")/../lib.sh"
# shellcheck source=lib.sh
. "$LAB_HERE/vm/lib.sh"
lab_need_root
lab_need_cmds ip nsenter socat qemu-system-x86_64 qemu-img mkfs.ext4 ssh-keygen python3 flock

I=${1:-}
LAYOUT=${2:-bond}
[[ $I =~ ^[0-9]+$ ]] && [ "$I" -ge 1 ] && [ "$I" -le 240 ] || lab_die "usage: vm/up.sh I LAYOUT   (1 <= I <= 240)"
case $LAYOUT in bond | vlan) ;; *) lab_die "unknown layout '$LAYOUT': bond or vlan" ;; esac
ip netns list | grep -qE "^$LAB_SWITCH_NS( |$)" || lab_die "instance '$LAB_NAME' is not up: run npm run lab -- up N first"
d=$(vm_dir "$I")
[ ! -e "$d" ] || lab_die "h$I exists already in $LAB_STATE"
lo=$(lab_lo_addr "$I")
if (exec 3<>"/dev/tcp/$lo/$LAB_SSH_PORT") 2>/dev/null; then lab_die "$lo:$LAB_SSH_PORT is taken"; fi

T0=$(date +%s%N)
on_exit() {
  local rc=$?
  if [ $rc != 0 ]; then
    lab_log "vm up failed; removing h$I (console kept in $d/console.log)"
    "$VM_HERE/down.sh" "$I" --keep-state >/dev/null 2>&1 || true
  fi
}
trap on_exit EXIT
image=$("$VM_HERE/build-image.sh")
T1=$(date +%s%N)

mkdir -p "$d/seed/root/etc/ssh" "$d/seed/root/root/.ssh" "$d/seed/root/etc/network/interfaces.d" \
  "$d/seed/root/etc/apt/sources.list.d"
qemu-img create -q -f qcow2 -F qcow2 -b "$image/disk.qcow2" "$d/disk.qcow2"
addr=$(lab_net_addr "$I")
seed=$d/seed/root
echo "h$I" >"$seed/etc/hostname"
printf '127.0.0.1 localhost\n%s h%s\n::1 localhost ip6-localhost ip6-loopback\n' "$addr" "$I" >"$seed/etc/hosts"
ssh-keygen -q -t ed25519 -N '' -C "h$I" -f "$seed/etc/ssh/ssh_host_ed25519_key"
cp "$seed/etc/ssh/ssh_host_ed25519_key.pub" "$d/ssh_host_ed25519_key.pub"
install -m 600 "$LAB_STATE/id_ed25519.pub" "$seed/root/.ssh/authorized_keys"
chmod 700 "$seed/root/.ssh"
echo "deb [trusted=yes] http://$LAB_NET_PREFIX.1:$LAB_REPO_PORT ./" >"$seed/etc/apt/sources.list.d/otopi-lab.list"
if [ "$LAYOUT" = bond ]; then
  cat >"$seed/etc/network/interfaces.d/lab" <<EOC
# The lab address on an active-backup bond of both switch ports.
auto bond0
iface bond0 inet static
    address $addr/24
    gateway $LAB_NET_PREFIX.1
    bond-slaves eth0 eth1
    bond-mode active-backup
    bond-miimon 100
    bond-primary eth0
EOC
else
  cat >"$seed/etc/network/interfaces.d/lab" <<EOC
# The lab address on VLAN $VM_VLAN of the trunk eth2.
auto eth2
iface eth2 inet manual

auto eth2.$VM_VLAN
iface eth2.$VM_VLAN inet static
    address $addr/24
    gateway $LAB_NET_PREFIX.1
    vlan-raw-device eth2
EOC
fi
mkfs.ext4 -q -L otopi-seed -d "$d/seed" "$d/seed.img" 8M

# Taps on the switch, and the VLAN relay that creates the third one.
for k in 0 1; do
  ip -n "$LAB_SWITCH_NS" tuntap add dev "$(vm_tap "$I" "$k")" mode tap
  ip -n "$LAB_SWITCH_NS" link set "$(vm_tap "$I" "$k")" master labbr0 up
done
cgs=$(lab_cgroups "h$I")
for cg in $cgs; do mkdir -p "$cg"; done
# Like lab_spawn, but in the host's own cgroup, which down.sh sweeps.
vm_spawn() {
  local base=$1 marker=$2
  shift 2
  # shellcheck disable=SC2016  # $1 and $$ belong to the inner shell
  setsid bash -c 'for cg in $1; do echo $$ >"$cg/cgroup.procs"; done; shift; exec "$@"' _ "$cgs" "$@" \
    >"$base.log" 2>&1 </dev/null &
  echo $! >"$base.pid"
  printf '%s\n' "$marker" >"$base.marker"
}
vm_spawn "$d/relay" "$(vm_tap "$I" 2) $VM_VLAN" ip netns exec "$LAB_SWITCH_NS" \
  python3 "$VM_HERE/vlan-relay.py" "$(vm_tap "$I" 2)" "$VM_VLAN" "$(vm_udp_relay "$I")" "$(vm_udp_qemu "$I")"
for _ in $(seq 50); do ip -n "$LAB_SWITCH_NS" link show "$(vm_tap "$I" 2)" >/dev/null 2>&1 && break; sleep 0.1; done
ip -n "$LAB_SWITCH_NS" link set "$(vm_tap "$I" 2)" master labbr0 up

cpu=max
[ "$VM_ACCEL" = kvm ] && cpu=host
uuid=$(printf '%08x-6c61-6230-766d-%012x' "$I" "$I")
nics=()
for k in 0 1; do
  nics+=(-netdev "tap,id=n$k,ifname=$(vm_tap "$I" "$k"),script=no,downscript=no"
    -device "virtio-net-pci,netdev=n$k,mac=$(vm_mac "$I" "$k")")
done
nics+=(-netdev "socket,id=n2,udp=127.0.0.1:$(vm_udp_relay "$I"),localaddr=127.0.0.1:$(vm_udp_qemu "$I")"
  -device "virtio-net-pci,netdev=n2,mac=$(vm_mac "$I" 2)")
: >"$d/console.log"
vm_spawn "$d/qemu" "$d/disk.qcow2" ip netns exec "$LAB_SWITCH_NS" \
  qemu-system-x86_64 -name "$LAB_PREFIX-h$I" -machine "pc,accel=$VM_ACCEL" -cpu "$cpu" -smp 1 -m "$VM_MEMORY" \
  -uuid "$uuid" -nodefaults -no-user-config -vga std -display none \
  -chardev "file,id=con0,path=$d/console.log" -serial chardev:con0 \
  -drive "file=$d/disk.qcow2,if=virtio,cache=unsafe,discard=unmap" \
  -drive "file=$d/seed.img,if=virtio,format=raw,readonly=on" \
  "${nics[@]}" \
  -device virtio-serial -chardev "socket,id=agent0,path=$d/agent.sock,server=on,wait=off" \
  -device virtserialport,chardev=agent0,name=org.qemu.guest_agent.0 \
  -monitor "unix:$d/monitor.sock,server=on,wait=off"
# Same as a container's forwarder, but to the VM's lab address: the session crosses its bond or VLAN.
lab_spawn "$d/forwarder" "bind=$lo," \
  socat "TCP-LISTEN:$LAB_SSH_PORT,bind=$lo,fork,reuseaddr,nodelay" \
  "EXEC:nsenter --net=/run/netns/$LAB_SWITCH_NS socat STDIO TCP\:$addr\:22\,nodelay"

VM_BOOT_TIMEOUT=${OTOPI_LAB_VM_BOOT_TIMEOUT:-900}
end=$(($(date +%s) + VM_BOOT_TIMEOUT))
until nsenter --net="/run/netns/$LAB_SWITCH_NS" bash -c "exec 3<>/dev/tcp/$addr/22" 2>/dev/null; do
  lab_pid_is_ours "$(cat "$d/qemu.pid")" "$d/disk.qcow2" || { tail -20 "$d/console.log" "$d/qemu.log" >&2; lab_die "h$I: qemu exited while booting"; }
  [ "$(date +%s)" -lt "$end" ] || { tail -20 "$d/console.log" >&2; lab_die "h$I: sshd not up after ${VM_BOOT_TIMEOUT}s"; }
  sleep 0.5
done
T2=$(date +%s%N)

# Client files: one more entry in hosts.json, known_hosts and ssh_config, under a lock.
exec 8>"$LAB_STATE/.clients.lock"
flock 8
known=$lo
[ "$LAB_SSH_PORT" = 22 ] || known="[$lo]:$LAB_SSH_PORT"
echo "$known $(cut -d' ' -f1,2 "$d/ssh_host_ed25519_key.pub")" >>"$LAB_STATE/known_hosts"
cat >>"$LAB_STATE/ssh_config" <<EOC
Host h$I
  HostName $lo
  Port $LAB_SSH_PORT
  User root
  IdentityFile $LAB_STATE/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $LAB_STATE/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
  KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org
EOC
python3 - "$LAB_STATE/hosts.json" <<EOP
import json, sys
path = sys.argv[1]
hosts = [h for h in json.load(open(path)) if h['index'] != $I]
hosts.append({'name': 'h$I', 'index': $I, 'address': '$lo', 'port': $LAB_SSH_PORT, 'user': 'root',
  'privateKeyPath': '$LAB_STATE/id_ed25519',
  'hostKeyFingerprint': '$(ssh-keygen -lf "$d/ssh_host_ed25519_key.pub" | cut -d' ' -f2)',
  'labAddress': '$addr', 'netns': '$LAB_SWITCH_NS', 'rootfs': '$d', 'flavour': 'vm', 'layout': '$LAYOUT',
  'agentSocket': '$d/agent.sock', 'console': '$d/console.log'})
with open(path + '.tmp', 'w') as f:
  json.dump(sorted(hosts, key=lambda h: h['index']), f, indent=1)
  f.write('\n')
EOP
mv "$LAB_STATE/hosts.json.tmp" "$LAB_STATE/hosts.json"
flock -u 8

state=$(ssh -F "$LAB_STATE/ssh_config" "h$I" 'systemctl is-system-running --wait' 2>&1) || true
[ "$state" = running ] || lab_log "WARNING: h$I is $state: $(ssh -F "$LAB_STATE/ssh_config" "h$I" systemctl --failed --plain --no-legend | tr '\n' ' ')"
T3=$(date +%s%N)
span() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }
lab_log "vm h$I ($LAYOUT, $VM_ACCEL) up in $(span "$T0" "$T3") s (image $(span "$T0" "$T1") s, boot to sshd $(span "$T1" "$T2") s, to $state $(span "$T2" "$T3") s)"
