# shellcheck shell=bash
# The node flavour (docs/lab.md, "Host flavours"): a vintage oVirt Node. The image (the debian
# base with the lab's vdsm packages already installed, and the node's own scripts) is read-only:
# the host boots it with systemd-nspawn --volatile=overlay, so what the host writes lands in a
# RAM layer that is gone at the next boot. What must survive is kept in /config, a folder of its
# own per host: `persist FILE` copies a file there and bind-mounts it over the original, and at
# boot ovirt-node-config.service bind-mounts every persisted file again. `unpersist FILE` undoes
# it. Sourced by lib.sh.

LAB_NODE_PKGS="vdsm_4.50.1-1 vdsm-client_4.50.1-1 ovirt-imageio-daemon_2.4.7-1 ovirt-host_4.5.0-1"

node_base() { lab_base; }

# Builds the node image into the host's own (overlay) root: vdsm and friends installed from the
# lab repo's .debs, as the node image ships them; persist, unpersist and the boot-time mounts.
node_customize() {
  local i=$1 root=$2 d debs=() p here="$LAB_HERE/flavours/node"
  d=$(lab_hostdir "$i")
  for p in $LAB_NODE_PKGS; do debs+=("/otopi-lab-debs/${p}_all.deb"); done
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  mkdir -p "$root/otopi-lab-debs"
  mount --bind -o ro "$LAB_STATE/repo" "$root/otopi-lab-debs"
  chroot "$root" dpkg -i "${debs[@]}" >"$d/node-image.log" 2>&1 ||
    { umount "$root/otopi-lab-debs"; tail -20 "$d/node-image.log" >&2; lab_die "h$i: installing vdsm into the node image failed"; }
  umount "$root/otopi-lab-debs"
  rmdir "$root/otopi-lab-debs"
  rm -f "$root/usr/sbin/policy-rc.d"
  install -m 0755 "$here/persist" "$root/usr/sbin/persist"
  install -m 0755 "$here/unpersist" "$root/usr/sbin/unpersist"
  install -m 0755 "$here/ovirt-node-config-mount" "$root/usr/libexec/ovirt-node-config-mount"
  install -m 0644 "$here/ovirt-node-config.service" "$root/etc/systemd/system/ovirt-node-config.service"
  ln -sf ../ovirt-node-config.service "$root/etc/systemd/system/sysinit.target.wants/ovirt-node-config.service"
  echo "oVirt Node Hypervisor release 3.6 (otopi lab)" >"$root/etc/ovirt-node-iso-release"
  # The config partition: empty on a new node, kept across restarts.
  mkdir -p "$d/config"
  mkdir -p "$root/config"
}

# The image stays as built: every boot starts from it, with /config bound in.
node_start() {
  local d
  d=$(lab_hostdir "$1")
  lab_container_start "$1" --volatile=overlay "--bind=$d/config:/config"
}
