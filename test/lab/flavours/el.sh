# shellcheck shell=bash
# The el flavour (docs/lab.md, "Host flavours"): a host run the way EL hosts are. NetworkManager
# owns eth0 (a keyfile profile), firewalld runs with its default zone, tuned runs, and dnf/rpm
# install from the lab's rpm repository. All of it is Debian's own packages: the host still says
# Debian in /etc/os-release, and it has no apt, so the code has to find dnf by what is there.
# Sourced by lib.sh.

LAB_EL_PKGS="network-manager firewalld tuned dnf rpm"
# Bump when el_build changes what it puts into the base.
LAB_EL_FORMAT=1
LAB_EL_BASE="$LAB_CACHE/base-$LAB_SUITE-el-$(printf '%s\n' "$LAB_BASE_ID" "$LAB_EL_PKGS" "$LAB_EL_FORMAT" | sha256sum | cut -c1-12)"

# The el base: a copy of the debian base with the EL tools added and apt taken out. Cached like
# the debian base and built under the same lock.
el_base() {
  "$LAB_HERE/build-base.sh" >/dev/null
  (
    exec 9>"$LAB_CACHE/.build.lock"
    flock 9
    [ -d "$LAB_EL_BASE" ] || el_build
  ) >&2
  echo "$LAB_EL_BASE"
}

el_build() {
  local tmp="$LAB_EL_BASE.tmp.$$" t0 log=$LAB_CACHE/build-base-el.log mirror security
  t0=$(date +%s%N)
  mirror=${OTOPI_LAB_MIRROR:-$(lab_apt_mirror "$LAB_SUITE")}
  mirror=${mirror:-http://deb.debian.org/debian}
  security=${OTOPI_LAB_SECURITY_MIRROR:-$(lab_apt_mirror "$LAB_SUITE-security")}
  lab_log "building the el base: $LAB_EL_PKGS on the debian base (log: $log)"
  cp -a "$LAB_BASE" "$tmp"
  # shellcheck disable=SC2064  # expand now: the trap must remove this very folder
  trap "umount '$tmp/var/cache/apt/archives' '$tmp/proc' 2>/dev/null; rm -rf --one-file-system '$tmp'" EXIT
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
  chmod 755 "$tmp/usr/sbin/policy-rc.d"
  {
    echo "deb $mirror $LAB_SUITE main"
    echo "deb $mirror $LAB_SUITE-updates main"
    if [ -n "$security" ]; then echo "deb $security $LAB_SUITE-security main"; fi
  } >"$tmp/etc/apt/sources.list"
  cp /etc/resolv.conf "$tmp/etc/resolv.conf.lab-build"
  mount --bind /etc/resolv.conf "$tmp/etc/resolv.conf"
  mount -t proc proc "$tmp/proc"
  mount --bind "$LAB_CACHE/debs" "$tmp/var/cache/apt/archives"
  {
    chroot "$tmp" apt-get update
    # shellcheck disable=SC2086  # a word list
    chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $LAB_EL_PKGS
    chroot "$tmp" apt-get clean
  } >"$log" 2>&1 || { tail -20 "$log" >&2; umount "$tmp/etc/resolv.conf"; lab_die "apt-get in the el base failed (log: $log)"; }
  umount "$tmp/var/cache/apt/archives" "$tmp/proc" "$tmp/etc/resolv.conf"
  rm -f "$tmp/etc/resolv.conf.lab-build"
  # No apt on an el host: dpkg stays (it owns the Debian userland), apt and its lists go.
  chroot "$tmp" dpkg --purge apt >>"$log" 2>&1 || { tail -20 "$log" >&2; lab_die "removing apt from the el base failed"; }
  rm -rf "$tmp/var/lib/apt" "$tmp/etc/apt" "$tmp/var/cache/apt"
  rm -f "$tmp/usr/sbin/policy-rc.d"
  # Debian has no system-release package for dnf to read $releasever from.
  mkdir -p "$tmp/etc/dnf/vars" "$tmp/etc/yum.repos.d"
  echo 9 >"$tmp/etc/dnf/vars/releasever"
  # NetworkManager: keyfiles only (Debian's default also reads ifupdown's files, which el hosts lack).
  mkdir -p "$tmp/etc/NetworkManager/conf.d"
  printf '[main]\nplugins=keyfile\n' >"$tmp/etc/NetworkManager/conf.d/10-otopi-lab.conf"
  printf 'built %s\nflavour el: %s\n' "$(date -u +%FT%TZ)" "$LAB_EL_PKGS" >>"$tmp/etc/otopi-lab-base"
  mv "$tmp" "$LAB_EL_BASE"
  trap - EXIT
  lab_log "el base ready in $(lab_since "$t0") s ($(du -sh "$LAB_EL_BASE" | cut -f1)): $LAB_EL_BASE"
}

# Per host: eth0's address as a NetworkManager keyfile, and the lab's rpm repository.
el_customize() {
  local i=$1 root=$2 f
  f=$root/etc/NetworkManager/system-connections/lab-eth0.nmconnection
  cat >"$f" <<EOC
[connection]
id=lab-eth0
uuid=$(cat /proc/sys/kernel/random/uuid)
type=ethernet
interface-name=eth0
autoconnect=true

[ipv4]
method=manual
address1=$(lab_net_addr "$i")/24

[ipv6]
method=disabled
EOC
  chmod 600 "$f"
  printf '[otopi-lab]\nname=otopi lab\nbaseurl=http://%s.1:%s/rpm/\ngpgcheck=0\nmetadata_expire=0\n' \
    "$LAB_NET_PREFIX" "$LAB_REPO_PORT" >"$root/etc/yum.repos.d/otopi-lab.repo"
}

# NetworkManager only manages what it configures itself: an address already on eth0 at its start
# would make it "connected (externally)". So an el host boots with eth0 bare, and NetworkManager
# brings the address up from the keyfile.
el_start() {
  ip -n "$(lab_ns "$1")" addr flush dev eth0
  lab_container_start "$1"
}
