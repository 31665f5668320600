# shellcheck shell=bash disable=SC2034  # the settings are used by the scripts that source this file
# Settings and helpers shared by the lab scripts. Sourced, never run.
# Every setting comes from an OTOPI_LAB_* environment variable; docs/lab.md lists them.

# One instance = one lab switch, its hosts and a state folder. Several instances can run side by
# side if each has its own name and loopback prefix.
LAB_NAME=${OTOPI_LAB_NAME:-lab}
LAB_STATE=${OTOPI_LAB_STATE:-/var/lib/otopi-lab/$LAB_NAME}
# Base root file systems, shared by every instance and kept between runs.
LAB_CACHE=${OTOPI_LAB_CACHE:-/var/cache/otopi-lab}
LAB_SUITE=${OTOPI_LAB_SUITE:-bookworm}
# Host N is reached from the root namespace at ${LAB_LO_PREFIX}.N:${LAB_SSH_PORT}, a loopback
# address: the root namespace never gets an address on the lab network.
LAB_LO_PREFIX=${OTOPI_LAB_LO_PREFIX:-127.42.0}
LAB_SSH_PORT=${OTOPI_LAB_SSH_PORT:-22}
# The lab network exists only inside our namespaces: the switch has .1, host N has .(N+10).
LAB_NET_PREFIX=${OTOPI_LAB_NET_PREFIX:-10.88.0}
LAB_BASE_PKGS="systemd systemd-sysv dbus openssh-server python3 iproute2 iptables nftables bridge-utils openssl ca-certificates procps kmod less iputils-ping netcat-openbsd"
LAB_EXTRA_PKGS=${OTOPI_LAB_EXTRA_PKGS:-}
LAB_PARALLEL=${OTOPI_LAB_PARALLEL:-8}
LAB_BOOT_TIMEOUT=${OTOPI_LAB_BOOT_TIMEOUT:-120}
LAB_APT_PROXY=${OTOPI_LAB_APT_PROXY:-0}
LAB_REPO_PORT=8080

# A running instance keeps the addresses it was created with, whatever the environment says now.
if [ -r "$LAB_STATE/settings" ]; then
  # shellcheck source=/dev/null
  . "$LAB_STATE/settings"
fi

# Bump when build-base.sh changes what it puts into the base, so a new base gets built.
LAB_BASE_FORMAT=1

[[ $LAB_NAME =~ ^[a-z][a-z0-9]{0,11}$ ]] || { echo "OTOPI_LAB_NAME must match [a-z][a-z0-9]{0,11}" >&2; exit 2; }

LAB_PREFIX="otopi-$LAB_NAME"          # namespaces, machine names and cgroups of this instance
LAB_SWITCH_NS="$LAB_PREFIX-sw"
LAB_BASE_ID=$(printf '%s\n' "$LAB_SUITE" "$LAB_BASE_PKGS" "$LAB_EXTRA_PKGS" "$LAB_BASE_FORMAT" | sha256sum | cut -c1-12)
LAB_BASE="$LAB_CACHE/base-$LAB_SUITE-$LAB_BASE_ID"
LAB_HERE="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
# Host flavours (docs/lab.md, "Host flavours"): debian, the default, and one more per file
# flavours/<name>.sh beside this one, which defines the hooks the flavour needs (lab_flavour_hook).
LAB_FLAVOURS=debian
for f in "$LAB_HERE"/flavours/*.sh; do
  [ -r "$f" ] || continue
  # shellcheck source=/dev/null
  . "$f"
  f=${f##*/}
  LAB_FLAVOURS+=" ${f%.sh}"
done

lab_log() { printf '[lab %s %s] %s\n' "$LAB_NAME" "$(date +%T)" "$*" >&2; }
lab_die() { lab_log "ERROR: $*"; exit 1; }

lab_ns() { echo "$LAB_PREFIX-h$1"; }
lab_hostdir() { echo "$LAB_STATE/hosts/h$1"; }
lab_lo_addr() { echo "$LAB_LO_PREFIX.$1"; }
lab_net_addr() { echo "$LAB_NET_PREFIX.$(($1 + 10))"; }

# The flavour of host i, as up.sh recorded it (debian when none was given).
lab_host_flavour() {
  cat "$(lab_hostdir "$1")/flavour" 2>/dev/null || echo debian
}

# Calls the flavour's hook <flavour>_<hook> when it defines one, else the default lab_<hook>.
# Hooks: base (prints the base root path, building it if needed), customize I ROOT (after the
# common host files are written, before the first boot), start I, stop I.
lab_flavour_hook() {
  local flavour=$1 hook=$2
  shift 2
  if declare -F "${flavour}_$hook" >/dev/null; then "${flavour}_$hook" "$@"; else "lab_$hook" "$@"; fi
}

# Parses a flavour list, "2=el,3=node" (or with spaces), into lines "<host> <flavour>".
lab_parse_flavours() {
  local item host flavour
  for item in ${1//,/ }; do
    [[ $item =~ ^([0-9]+)=([a-z]+)$ ]] || lab_die "bad flavour '$item': expected HOST=FLAVOUR, e.g. 2=el"
    host=${BASH_REMATCH[1]} flavour=${BASH_REMATCH[2]}
    [[ " $LAB_FLAVOURS " == *" $flavour "* ]] || lab_die "unknown flavour '$flavour' for h$host (known: $LAB_FLAVOURS)"
    echo "$host $flavour"
  done
}

lab_base() { "$LAB_HERE/build-base.sh" >/dev/null && echo "$LAB_BASE"; }
lab_customize() { :; }
lab_start() { lab_container_start "$1"; }
lab_stop() { lab_container_stop "$1"; }

# Writes the settings a running instance must keep (read back above).
lab_save_settings() {
  printf 'LAB_LO_PREFIX=%q\nLAB_NET_PREFIX=%q\nLAB_SSH_PORT=%q\nLAB_APT_PROXY=%q\n' \
    "$LAB_LO_PREFIX" "$LAB_NET_PREFIX" "$LAB_SSH_PORT" "$LAB_APT_PROXY" >"$LAB_STATE/settings"
}

# Deletes the state folder, but only one the lab made (it has our settings file, or is empty), so a
# mistaken OTOPI_LAB_STATE can never remove anything else.
lab_remove_state() {
  [ -e "$LAB_STATE" ] || return 0
  if [ ! -f "$LAB_STATE/settings" ] && [ -n "$(ls -A "$LAB_STATE")" ]; then
    lab_die "$LAB_STATE is not a lab state folder (no settings file); not deleting it"
  fi
  if grep -qF " $LAB_STATE/" /proc/mounts; then lab_die "mounts are left under $LAB_STATE; not deleting it"; fi
  rm -rf --one-file-system "$LAB_STATE"
}

# Seconds since a `date +%s%N` stamp, one decimal.
lab_since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

lab_need_root() {
  [ "$(id -u)" = 0 ] || lab_die "the lab needs root (network namespaces, mounts, systemd-nspawn)"
}

lab_need_cmds() {
  local missing=() c
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
  [ ${#missing[@]} = 0 ] || lab_die "missing commands: ${missing[*]}; run: bash test/lab/deps.sh"
}

# A recorded PID is ours only while it is alive and its command line contains a string that only
# our own processes carry (our state folder, our namespace path). Anything else is left alone.
lab_pid_is_ours() {
  local pid=$1 marker=$2
  [[ $pid =~ ^[0-9]+$ ]] && [ -n "$marker" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$marker"
}

# Stops a recorded process group leader (TERM, then KILL after 3 s) if it is still ours.
lab_stop_pid() {
  local pidfile=$1 marker=$2 pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 0
  lab_pid_is_ours "$pid" "$marker" || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 30); do lab_pid_is_ours "$pid" "$marker" || return 0; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}

# The Debian mirror this machine's apt already uses for a suite (deb822 or one-line sources).
lab_apt_mirror() {
  local suite=$1 uri
  # shellcheck disable=SC2016  # awk program
  uri=$(awk -v s="$suite" '
    function flush() { if (u != "" && ok) { print u; u = ""; exit } u = ""; ok = 0 }
    FNR == 1 || /^[[:space:]]*$/ { flush() }
    tolower($1) == "uris:" { u = $2 }
    tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
    END { flush() }' /etc/apt/sources.list.d/*.sources 2>/dev/null)
  if [ -z "$uri" ]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | sed -e 's/#.*//' -e 's/\[[^]]*\]//' | awk -v s="$suite" '$1 == "deb" && $3 == s { print $2; exit }')
  fi
  echo "${uri%/}"
}

# cgroup folders a host's container (h1, h2...) or the lab services ("services") run in: hybrid v1 + v2 (as on the lab machine) or pure v2.
lab_cgroups() {
  local leaf=$1
  if [ -d /sys/fs/cgroup/systemd ] && [ -d /sys/fs/cgroup/unified ]; then
    echo "/sys/fs/cgroup/systemd/$LAB_PREFIX/$leaf /sys/fs/cgroup/unified/$LAB_PREFIX/$leaf"
  elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    echo "/sys/fs/cgroup/$LAB_PREFIX/$leaf"
  fi
}

# Starts a long-running lab process (forwarder, repo server, proxy bridge) in the background, in
# its own process group and in the instance's "services" cgroup. Records its PID in NAME.pid and,
# in NAME.marker, a string its command line must contain for teardown to treat it as ours.
lab_spawn() {
  local base=$1 marker=$2 cgs cg
  shift 2
  cgs=$(lab_cgroups services)
  for cg in $cgs; do mkdir -p "$cg"; done
  # shellcheck disable=SC2016  # $1 and $$ belong to the inner shell
  setsid bash -c 'for cg in $1; do echo $$ >"$cg/cgroup.procs"; done; shift; exec "$@"' _ "$cgs" "$@" \
    >"$base.log" 2>&1 </dev/null &
  echo $! >"$base.pid"
  printf '%s\n' "$marker" >"$base.marker"
}

# Stops what lab_spawn started as BASE, if it is still ours.
lab_unspawn() {
  lab_stop_pid "$1.pid" "$(cat "$1.marker" 2>/dev/null || echo "$1")"
}

# PID 1 of host i's container (its systemd), for nsenter. Fails when the host is not running.
lab_leader() {
  local i=$1 d pid
  d=$(lab_hostdir "$i")
  pid=$(cat "$d/nspawn.pid" 2>/dev/null) || lab_die "no host h$i in $LAB_STATE"
  lab_pid_is_ours "$pid" "--directory=$d/root" || lab_die "host h$i is not running"
  pgrep -P "$pid" | head -1 | grep . || lab_die "host h$i has no init process"
}

# Runs a command inside host i (all its namespaces and its root) with a clean environment.
lab_exec() {
  local i=$1 leader
  shift
  leader=$(lab_leader "$i") || exit 1
  nsenter -t "$leader" -m -u -i -n -p -r -w -- /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
}

# A fresh network namespace for host i: lo, and eth0 as a veth plugged into the lab switch.
lab_net_create() {
  local i=$1 ns
  ns=$(lab_ns "$i")
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add eth0 netns "$ns" type veth peer name "v$i" netns "$LAB_SWITCH_NS"
  ip -n "$LAB_SWITCH_NS" link set "v$i" master labbr0 up
  ip -n "$ns" addr add "$(lab_net_addr "$i")/24" dev eth0
  ip -n "$ns" link set eth0 up
}

lab_net_delete() {
  local i=$1
  # The veth goes away with the namespace, but an old namespace can linger while its last
  # processes exit, keeping the name v$i taken on the switch. Delete it explicitly.
  ip -n "$LAB_SWITCH_NS" link del "v$i" 2>/dev/null || true
  ip netns del "$(lab_ns "$i")" 2>/dev/null || true
}

# Boots host i: systemd as PID 1 in its own network namespace and its own cgroup.
lab_container_start() {
  local i=$1 d cgs cg
  shift
  # More systemd-nspawn options, from a flavour's start hook.
  d=$(lab_hostdir "$i")
  cgs=$(lab_cgroups "h$i")
  for cg in $cgs; do mkdir -p "$cg"; done
  # Without a systemd on the machine nspawn cannot register with machined: --register=no and
  # --keep-unit. The capabilities let a host manage its own network stack (bridges, firewall) and
  # the writable /proc/sys/net lets it set net.* sysctls; both only reach its own namespace.
  # shellcheck disable=SC2016  # $1 and $$ belong to the inner shell
  setsid bash -c 'for cg in $1; do echo $$ >"$cg/cgroup.procs"; done; shift
      SYSTEMD_NSPAWN_API_VFS_WRITABLE=network exec "$@"' _ "$cgs" \
    systemd-nspawn --quiet --register=no --keep-unit --boot --console=read-only \
    --link-journal=no --resolv-conf=off --timezone=off \
    --capability=CAP_NET_ADMIN,CAP_NET_RAW,CAP_IPC_LOCK \
    --directory="$d/root" --machine="$LAB_PREFIX-h$i" --hostname="h$i" \
    --network-namespace-path="/run/netns/$(lab_ns "$i")" "$@" \
    >>"$d/console.log" 2>&1 </dev/null &
  echo $! >"$d/nspawn.pid"
}

# Waits until sshd accepts connections inside host i.
lab_wait_ssh() {
  local i=$1 d end
  d=$(lab_hostdir "$i")
  end=$(($(date +%s) + LAB_BOOT_TIMEOUT))
  until nsenter --net="/run/netns/$(lab_ns "$i")" bash -c "exec 3<>/dev/tcp/127.0.0.1/22" 2>/dev/null; do
    if ! kill -0 "$(cat "$d/nspawn.pid")" 2>/dev/null; then
      tail -20 "$d/console.log" >&2
      lab_die "h$i: the container exited while booting (log: $d/console.log)"
    fi
    if [ "$(date +%s)" -ge "$end" ]; then
      tail -20 "$d/console.log" >&2
      lab_die "h$i: sshd not up after ${LAB_BOOT_TIMEOUT}s (log: $d/console.log)"
    fi
    sleep 0.1
  done
}

# Kills whatever is still in one of the instance's own cgroups and removes them. Only processes we
# started (and their children) can be in there: the cgroups are created by, and named after, us.
lab_cgroup_sweep() {
  local cg pids
  for cg in $(lab_cgroups "$1"); do
    [ -d "$cg" ] || continue
    for _ in 1 2 3; do
      pids=$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)
      [ -z "$pids" ] && break
      # shellcheck disable=SC2086  # one PID per word
      kill -KILL $pids 2>/dev/null || true
      sleep 0.2
    done
    find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

# Halts host i: the first TERM makes nspawn shut systemd down cleanly, a second one kills at once.
# What is left in the host's own cgroups afterwards was started by that host's container.
lab_container_stop() {
  local i=$1 d pid
  d=$(lab_hostdir "$i")
  pid=$(cat "$d/nspawn.pid" 2>/dev/null || true)
  if lab_pid_is_ours "$pid" "--directory=$d/root"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; sleep 1; fi
  fi
  lab_cgroup_sweep "h$i"
  # nspawn leaves this behind because /run is not a tmpfs on the lab machine.
  rmdir "/run/systemd/nspawn/propagate/$LAB_PREFIX-h$i" 2>/dev/null || true
}
