# shellcheck shell=bash disable=SC2034  # the settings are used by the scripts that source this file
# Settings and helpers of the lab's vm flavour (docs/lab.md, "The vm flavour"). Sourced after
# ../lib.sh, never run.

# The image: Debian with its own kernel, grub, kdump-tools, ifupdown with bonding and VLANs.
VM_PKGS="linux-image-cloud-amd64 grub-pc initramfs-tools systemd systemd-sysv dbus udev openssh-server \
iproute2 ifupdown ifenslave vlan bridge-utils kdump-tools qemu-guest-agent iptables nftables procps kmod \
iputils-ping netcat-openbsd openssl ca-certificates less python3"
# Bump when build-image.sh changes what it puts into the image.
VM_FORMAT=5
VM_ID=$(printf '%s\n' "$LAB_SUITE" "$LAB_BASE_ID" "$VM_PKGS" "$VM_FORMAT" | sha256sum | cut -c1-12)
VM_IMAGE="$LAB_CACHE/vm-$LAB_SUITE-$VM_ID"
VM_HERE="$LAB_HERE/vm"
# Memory of each VM (MiB): kdump-tools reserves 128 MiB of it for the crash kernel.
VM_MEMORY=${OTOPI_LAB_VM_MEMORY:-1024}
# tcg or kvm (docs/lab.md says which one is faster here, and why).
VM_ACCEL=${OTOPI_LAB_VM_ACCEL:-tcg}
# The VLAN the third NIC carries, untagged on the lab switch through vlan-relay.py.
VM_VLAN=100

vm_dir() { lab_hostdir "$1"; }
# NIC k of VM i on the switch: tap t<i>n<k>; MACs 52:54:00:4c:<i>:<k>.
vm_tap() { echo "t$1n$2"; }
vm_mac() { printf '52:54:00:4c:%02x:%02x' "$1" "$2"; }
# UDP ports of the VLAN NIC (qemu's end, the relay's end), on the switch namespace's loopback.
vm_udp_qemu() { echo $((42000 + $1 * 2)); }
vm_udp_relay() { echo $((42001 + $1 * 2)); }
