#!/bin/bash
# Builds, once, the base root file system that every lab host overlays: a debootstrap minbase of
# Debian plus systemd, sshd, python3 and the network tools. Prints the base path on stdout.
# Usage: build-base.sh [--force]
# About 2.5 minutes the first time (CPU-bound); instant when the base for this package list exists.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"
lab_need_root
lab_need_cmds debootstrap chroot flock

force=0
[ "${1:-}" = --force ] && force=1
mkdir -p "$LAB_CACHE/debs/partial"
# Two instances starting at once must not both build.
exec 9>"$LAB_CACHE/.build.lock"
flock 9
if [ -d "$LAB_BASE" ] && [ $force = 0 ]; then
  echo "$LAB_BASE"
  exit 0
fi

# The registry this machine's apt already uses: the only Debian mirror known to be reachable.
mirror=${OTOPI_LAB_MIRROR:-$(lab_apt_mirror "$LAB_SUITE")}
mirror=${mirror:-http://deb.debian.org/debian}
security=${OTOPI_LAB_SECURITY_MIRROR:-$(lab_apt_mirror "$LAB_SUITE-security")}

tmp="$LAB_BASE.tmp.$$"
cleanup() {
  local m
  for m in var/cache/apt/archives proc; do
    if mountpoint -q "$tmp/$m" 2>/dev/null; then umount "$tmp/$m"; fi
  done
  if [ -d "$tmp" ]; then rm -rf --one-file-system "$tmp"; fi
}
trap cleanup EXIT
t0=$(date +%s%N)
log=$LAB_CACHE/build-base.log
lab_log "building the base: debootstrap $LAB_SUITE from $mirror (log: $log)"
debootstrap --variant=minbase --cache-dir="$LAB_CACHE/debs" "$LAB_SUITE" "$tmp" "$mirror" >"$log" 2>&1 ||
  { tail -20 "$log" >&2; lab_die "debootstrap failed (log: $log)"; }
t1=$(date +%s%N)

# Nothing may start inside the build chroot: it shares the machine's namespaces.
printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
chmod 755 "$tmp/usr/sbin/policy-rc.d"
{
  echo "deb $mirror $LAB_SUITE main"
  echo "deb $mirror $LAB_SUITE-updates main"
  if [ -n "$security" ]; then echo "deb $security $LAB_SUITE-security main"; fi
} >"$tmp/etc/apt/sources.list"
cp /etc/resolv.conf "$tmp/etc/resolv.conf"
mount -t proc proc "$tmp/proc"
mount --bind "$LAB_CACHE/debs" "$tmp/var/cache/apt/archives"
lab_log "installing $LAB_BASE_PKGS $LAB_EXTRA_PKGS"
{
  chroot "$tmp" apt-get update
  # shellcheck disable=SC2086  # package lists are word lists
  chroot "$tmp" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends $LAB_BASE_PKGS $LAB_EXTRA_PKGS
} >>"$log" 2>&1 || { tail -20 "$log" >&2; lab_die "apt-get in the base failed (log: $log)"; }
umount "$tmp/var/cache/apt/archives" "$tmp/proc"
t2=$(date +%s%N)

# Turn it into a neutral template; each host gets its identity when it is created.
rm -f "$tmp/usr/sbin/policy-rc.d"          # packages installed in a host start their services
rm -f "$tmp"/etc/ssh/ssh_host_*            # own host keys per host
: >"$tmp/etc/machine-id"
rm -f "$tmp/var/lib/dbus/machine-id" "$tmp/etc/hostname"
printf '# lab host: no DNS server is reachable\noptions timeout:1 attempts:1\n' >"$tmp/etc/resolv.conf"
# Hosts use the lab's own repository only (see up.sh); without the 50 MB of Debian package lists an
# apt-get install from it takes under a second.
echo "# lab host: sources are in sources.list.d" >"$tmp/etc/apt/sources.list"
chroot "$tmp" apt-get clean
rm -rf "$tmp"/var/lib/apt/lists/*
mkdir -p "$tmp/var/lib/apt/lists/partial"
mkdir -p "$tmp/etc/ssh/sshd_config.d"
cat >"$tmp/etc/ssh/sshd_config.d/10-otopi-lab.conf" <<'EOF'
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
MaxStartups 100:30:200
MaxSessions 50
EOF
mkdir -p "$tmp/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=8M\n' >"$tmp/etc/systemd/journald.conf.d/10-otopi-lab.conf"
# Timers and gettys only cost boot time and memory in a lab host.
for u in console-getty.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
  dpkg-db-backup.timer fstrim.timer; do
  ln -sf /dev/null "$tmp/etc/systemd/system/$u"
done
printf 'built %s\nsuite %s\npackages %s %s\n' "$(date -u +%FT%TZ)" "$LAB_SUITE" "$LAB_BASE_PKGS" \
  "$LAB_EXTRA_PKGS" >"$tmp/etc/otopi-lab-base"

if [ -d "$LAB_BASE" ]; then
  # --force: swap the new tree in. Running hosts keep the old one open, so never force while up.
  mv "$LAB_BASE" "$LAB_BASE.old.$$"
  mv "$tmp" "$LAB_BASE"
  rm -rf --one-file-system "$LAB_BASE.old.$$"
else
  mv "$tmp" "$LAB_BASE"
fi
lab_log "base ready in $(lab_since "$t0") s (debootstrap $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) / 1e9 }') s, apt $(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.0f", (b - a) / 1e9 }') s, $(du -sh "$LAB_BASE" | cut -f1)): $LAB_BASE"
echo "$LAB_BASE"
