#!/bin/bash
# Brings up N lab hosts h1..hN. Each one is a Debian system container with:
#   - its own network namespace otopi-<name>-hI: lo, and eth0 on the lab switch (otopi-<name>-sw)
#   - its own root fs: an overlay of the cached base (build-base.sh) and a per-host upper folder
#   - systemd as PID 1, and sshd with its own host key and key-only root login
#   - access from the root namespace only at <lo-prefix>.I:22, through a socat forwarder
# Also builds the fake packages (packages/build.sh) and serves them to the hosts as their only apt
# source, at http://<net-prefix>.1:8080/ on the switch.
# Usage: up.sh N [--flavour 2=el,3=node]
#   Writes hosts.json, ssh_config, known_hosts and id_ed25519 into the state folder. Hosts are of the
#   debian flavour unless --flavour (or OTOPI_LAB_FLAVOURS, the same list) says otherwise; docs/lab.md
#   describes the flavours.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"
lab_need_root
lab_need_cmds ip nsenter socat systemd-nspawn ssh ssh-keygen mount flock pgrep dpkg-deb dpkg-scanpackages /usr/bin/python3

N=${1:-}
if ! [[ $N =~ ^[0-9]+$ ]] || [ "$N" -lt 1 ] || [ "$N" -gt 240 ]; then
  lab_die "usage: up.sh N [--flavour HOST=FLAVOUR,...]   (1 <= N <= 240)"
fi
shift
flavours=${OTOPI_LAB_FLAVOURS:-}
while [ $# -gt 0 ]; do
  case $1 in
    --flavour | --flavours) [ $# -ge 2 ] || lab_die "--flavour needs a list, e.g. 2=el,3=node"; flavours+=" $2"; shift 2 ;;
    --flavour=* | --flavours=*) flavours+=" ${1#*=}"; shift ;;
    *) lab_die "unknown argument '$1'; usage: up.sh N [--flavour HOST=FLAVOUR,...]" ;;
  esac
done
declare -A FLAVOUR=()
# Parsed first, so a bad list stops up.sh here (a failing process substitution would not).
parsed=$(lab_parse_flavours "$flavours")
while read -r host flavour; do
  [ -n "$host" ] || continue
  [ "$host" -ge 1 ] && [ "$host" -le "$N" ] || lab_die "flavour for h$host, but only h1..h$N come up"
  FLAVOUR[$host]=$flavour
done <<<"$parsed"

# Refuse to touch a running instance; a stopped one's leftovers (down --keep-state) are ours to drop.
if ip netns list | grep -qE "^$LAB_PREFIX-(h[0-9]+|sw)( |$)"; then
  lab_die "instance '$LAB_NAME' is up (namespaces $LAB_PREFIX-*); run down first"
fi
lab_remove_state
# The settings of the old state are gone: take the environment's.
LAB_LO_PREFIX=${OTOPI_LAB_LO_PREFIX:-127.42.0}
LAB_NET_PREFIX=${OTOPI_LAB_NET_PREFIX:-10.88.0}
LAB_SSH_PORT=${OTOPI_LAB_SSH_PORT:-22}
for i in $(seq "$N"); do
  if (exec 3<>"/dev/tcp/$(lab_lo_addr "$i")/$LAB_SSH_PORT") 2>/dev/null; then
    lab_die "$(lab_lo_addr "$i"):$LAB_SSH_PORT is taken; another instance needs its own OTOPI_LAB_LO_PREFIX"
  fi
done

T0=$(date +%s%N)
# From here on, a failure removes what was created but keeps the logs.
on_exit() {
  local rc=$?
  if [ $rc != 0 ]; then
    lab_log "up failed; removing what was created (logs kept in $LAB_STATE)"
    "$LAB_HERE/down.sh" --keep-state >/dev/null 2>&1 || true
  fi
}
trap on_exit EXIT

# Each systemd host holds about 5 inotify instances; the usual limit of 128 per user stalls the
# boot at about the 24th host. The limit is the machine's: count the hosts of the other running
# instances too.
others=$(ip netns list | grep -cE '^otopi-[a-z0-9]+-h[0-9]+( |$)' || true)
need=$(((N + others) * 8 + 512))
if [ "$(sysctl -n fs.inotify.max_user_instances)" -lt "$need" ]; then
  sysctl -qw fs.inotify.max_user_instances="$need"
fi
# One base per flavour in use, built (or found in the cache) before any host is created.
declare -A BASE=()
for i in $(seq "$N"); do
  f=${FLAVOUR[$i]:-debian}
  [ -n "${BASE[$f]:-}" ] || BASE[$f]=$(lab_flavour_hook "$f" base)
done
T1=$(date +%s%N)

mkdir -p "$LAB_STATE"
lab_save_settings
mkdir -p "$LAB_STATE/hosts" "$LAB_STATE/lab"
ssh-keygen -q -t ed25519 -N '' -C "otopi-lab-$LAB_NAME" -f "$LAB_STATE/id_ed25519"

# The lab switch: a bridge in a namespace of its own, with no uplink and no route out.
ip netns add "$LAB_SWITCH_NS"
ip -n "$LAB_SWITCH_NS" link set lo up
ip -n "$LAB_SWITCH_NS" link add labbr0 type bridge
ip -n "$LAB_SWITCH_NS" addr add "$LAB_NET_PREFIX.1/24" dev labbr0
ip -n "$LAB_SWITCH_NS" link set labbr0 up

# The fake packages, served from the switch; the hosts can reach nothing else.
"$LAB_HERE/packages/build.sh" "$LAB_STATE/repo"
lab_spawn "$LAB_STATE/lab/repo" "$LAB_STATE/repo" \
  ip netns exec "$LAB_SWITCH_NS" /usr/bin/python3 -m http.server "$LAB_REPO_PORT" \
  --bind "$LAB_NET_PREFIX.1" --directory "$LAB_STATE/repo"

# Optional: the Debian mirror for the hosts, through apt-cacher-ng in the root namespace. The hosts
# still have no route out: a socat on the switch hands their connections over a unix socket to a
# socat in the root namespace, which connects to apt-cacher-ng on 127.0.0.1 only.
if [ "$LAB_APT_PROXY" = 1 ]; then
  lab_need_cmds apt-cacher-ng
  acng_conf="$LAB_CACHE/acng-conf"
  mirror=${OTOPI_LAB_MIRROR:-$(lab_apt_mirror "$LAB_SUITE")}
  mirror=${mirror:-http://deb.debian.org/debian}
  security=${OTOPI_LAB_SECURITY_MIRROR:-$(lab_apt_mirror "$LAB_SUITE-security")}
  debian_sources=("deb $mirror $LAB_SUITE main" "deb $mirror $LAB_SUITE-updates main")
  if [ -n "$security" ]; then debian_sources+=("deb $security $LAB_SUITE-security main"); fi
  if ! (exec 3<>/dev/tcp/127.0.0.1/3142) 2>/dev/null; then
    mkdir -p "$LAB_CACHE/acng" "$LAB_CACHE/acng-log" "$acng_conf"
    cp -a /etc/apt-cacher-ng/. "$acng_conf/"
    # Only the mirror apt uses here is reachable; apt-cacher-ng must not pick another one.
    echo "$mirror/" >"$acng_conf/backends_debian"
    chown -R apt-cacher-ng: "$LAB_CACHE/acng" "$LAB_CACHE/acng-log" 2>/dev/null || true
    lab_spawn "$LAB_STATE/lab/acng" "$acng_conf" apt-cacher-ng -c "$acng_conf" ForeGround=1 \
      Port=3142 BindAddress=127.0.0.1 CacheDir="$LAB_CACHE/acng" LogDir="$LAB_CACHE/acng-log"
    for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/3142) 2>/dev/null && break; sleep 0.1; done
  fi
  sock="$LAB_STATE/lab/aptproxy.sock"
  lab_spawn "$LAB_STATE/lab/aptsock" "$sock" socat "UNIX-LISTEN:$sock,fork,unlink-early" TCP:127.0.0.1:3142
  lab_spawn "$LAB_STATE/lab/aptproxy" "$sock" ip netns exec "$LAB_SWITCH_NS" \
    socat "TCP-LISTEN:3142,bind=$LAB_NET_PREFIX.1,fork,reuseaddr" "UNIX-CONNECT:$sock"
fi

# This kernel may be built without module support, so `modprobe bridge` would fail in a plain
# Debian root. A modules.builtin listing what the kernel has built in lets modprobe succeed for
# those and still fail for what it really lacks (VLAN and bonding here).
kver=$(uname -r)
: >"$LAB_STATE/modules.builtin"
if [ ! -e /proc/modules ] && [ -r /proc/config.gz ]; then
  zcat /proc/config.gz >"$LAB_STATE/kconfig"
  while read -r opt mod; do
    if grep -q "^$opt=y" "$LAB_STATE/kconfig"; then echo "$mod" >>"$LAB_STATE/modules.builtin"; fi
  done <"$LAB_HERE/modules.builtin.map"
fi

create_host() {
  local i=$1 d root flavour=${FLAVOUR[$1]:-debian}
  d=$(lab_hostdir "$i")
  root=$d/root
  mkdir -p "$d/upper" "$d/work" "$root"
  echo "$flavour" >"$d/flavour"
  lab_net_create "$i"
  # redirect_dir=on: renaming a directory that comes from the base must work as on a disk;
  # without it rename(2) fails with EXDEV, and this kernel defaults to off.
  mount -t overlay overlay -o "lowerdir=${BASE[$flavour]},upperdir=$d/upper,workdir=$d/work,redirect_dir=on" "$root"
  echo "h$i" >"$root/etc/hostname"
  printf '127.0.0.1 localhost\n%s h%s\n::1 localhost ip6-localhost ip6-loopback\n' "$(lab_net_addr "$i")" "$i" >"$root/etc/hosts"
  tr -d - </proc/sys/kernel/random/uuid >"$root/etc/machine-id"
  ssh-keygen -q -t ed25519 -N '' -C "h$i" -f "$root/etc/ssh/ssh_host_ed25519_key"
  install -d -m 700 "$root/root/.ssh"
  install -m 600 "$LAB_STATE/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
  if [ -s "$LAB_STATE/modules.builtin" ]; then
    mkdir -p "$root/lib/modules/$kver"
    cp "$LAB_STATE/modules.builtin" "$root/lib/modules/$kver/"
    chroot "$root" /sbin/depmod -a "$kver" 2>/dev/null || true
  fi
  if [ -d "$root/etc/apt/sources.list.d" ]; then
    echo "deb [trusted=yes] http://$LAB_NET_PREFIX.1:$LAB_REPO_PORT ./" >"$root/etc/apt/sources.list.d/otopi-lab.list"
  fi
  if [ "$LAB_APT_PROXY" = 1 ] && [ -d "$root/etc/apt/apt.conf.d" ]; then
    printf 'Acquire::http::Proxy "http://%s.1:3142";\nAcquire::http::Proxy::%s.1 "DIRECT";\n' \
      "$LAB_NET_PREFIX" "$LAB_NET_PREFIX" >"$root/etc/apt/apt.conf.d/01otopi-lab-proxy"
    # Kept outside sources.list.d: a test that needs the mirror copies it in for its own host,
    # so every other host still installs from the lab repo alone.
    printf '%s\n' "${debian_sources[@]}" >"$root/etc/apt/otopi-lab-debian.list"
  fi
  lab_flavour_hook "$flavour" customize "$i" "$root"
  lab_flavour_hook "$flavour" start "$i"
  # Each connection enters the namespace by path, so restart.sh can replace the namespace.
  # nodelay (TCP_NODELAY) on both legs: without it Nagle and delayed ACKs add about 25 ms to
  # every question-and-answer round trip of a dialog (0.8 ms with it, as with a direct sshd).
  lab_spawn "$d/forwarder" "bind=$(lab_lo_addr "$i")," \
    socat "TCP-LISTEN:$LAB_SSH_PORT,bind=$(lab_lo_addr "$i"),fork,reuseaddr,nodelay" \
    "EXEC:nsenter --net=/run/netns/$(lab_ns "$i") socat STDIO TCP\:127.0.0.1\:22\,nodelay"
}

# Creating is quick; the containers boot in the background, all at once.
for i in $(seq "$N"); do create_host "$i"; done
T2=$(date +%s%N)
for i in $(seq "$N"); do lab_wait_ssh "$i"; done
T3=$(date +%s%N)

"$LAB_HERE/client-files.sh" "$N"

# End to end, as a client will see it: forwarder, key login, pinned host key, booted systemd.
pids=()
for i in $(seq "$N"); do
  ssh -F "$LAB_STATE/ssh_config" "h$i" 'systemctl is-system-running --wait' >"$(lab_hostdir "$i")/state" 2>&1 &
  pids+=($!)
done
for i in $(seq "$N"); do
  if ! wait "${pids[$((i - 1))]}"; then
    state=$(cat "$(lab_hostdir "$i")/state")
    [ "$state" = degraded ] || lab_die "h$i: ssh check failed: $state"
    lab_log "WARNING: h$i is degraded: $(lab_exec "$i" systemctl --failed --plain --no-legend | tr '\n' ' ')"
  fi
done
T4=$(date +%s%N)
span() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }
lab_log "$N hosts up in $(span "$T0" "$T4") s (base $(span "$T0" "$T1") s, create $(span "$T1" "$T2") s, boot $(span "$T2" "$T3") s, ssh check $(span "$T3" "$T4") s)"
echo "$LAB_STATE/hosts.json"
