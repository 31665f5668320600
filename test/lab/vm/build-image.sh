#!/bin/bash
# Builds, once, the disk image of the lab's vm flavour: the lab's container base (build-base.sh,
# built first when the cache has none) copied onto a disk, plus Debian's own kernel
# (linux-image-cloud-amd64), grub on a BIOS disk (it reads GRUB_CMDLINE_LINUX through
# update-grub, as on a real host), kdump-tools with its crash kernel reserved and fence-agents'
# fence_kdump_send, ifupdown with bonding and VLANs, sshd and the qemu guest agent (the tests'
# way in that needs no network).
# Each VM boots a qcow2 overlay of it. Prints the image path on stdout.
# Usage: build-image.sh [--force]
set -euo pipefail
# shellcheck source=../lib.sh
. "$(dirname "$(readlink -f "$0")")/../lib.sh"
# shellcheck source=lib.sh
. "$LAB_HERE/vm/lib.sh"
lab_need_root
lab_need_cmds debootstrap chroot flock losetup sfdisk mkfs.ext4 qemu-img

# The base first (under its own lock): the image starts from a copy of it, not from a debootstrap
# of its own, so the two share their download and their minbase.
base=$("$LAB_HERE/build-base.sh")

force=0
[ "${1:-}" = --force ] && force=1
mkdir -p "$LAB_CACHE/debs/partial"
exec 9>"$LAB_CACHE/.build-vm.lock"
flock 9
if [ -f "$VM_IMAGE/disk.qcow2" ] && [ $force = 0 ]; then
  echo "$VM_IMAGE"
  exit 0
fi

mirror=${OTOPI_LAB_MIRROR:-$(lab_apt_mirror "$LAB_SUITE")}
mirror=${mirror:-http://deb.debian.org/debian}
security=${OTOPI_LAB_SECURITY_MIRROR:-$(lab_apt_mirror "$LAB_SUITE-security")}

tmp="$VM_IMAGE.tmp.$$"
mnt="$tmp/mnt"
loop=""
cleanup() {
  local m
  for m in var/cache/apt/archives dev/pts dev sys proc ""; do
    if mountpoint -q "$mnt/$m" 2>/dev/null; then umount "$mnt/$m" || umount -l "$mnt/$m"; fi
  done
  if [ -n "$loop" ]; then losetup -d "$loop" 2>/dev/null || true; fi
  if [ -d "$tmp" ]; then rm -rf --one-file-system "$tmp"; fi
}
trap cleanup EXIT
t0=$(date +%s%N)
log=$LAB_CACHE/build-vm.log
: >"$log"
mkdir -p "$mnt"

# A BIOS disk: one partition, grub's core image in the gap before it.
truncate -s 3G "$tmp/disk.raw"
echo 'label: dos
start=2048, type=83, bootable' | sfdisk -q "$tmp/disk.raw"
# The machine's kernel may read no partition tables (this one does not): the partition gets a loop
# device of its own, at its offset.
loop=$(losetup -f --show -o $((2048 * 512)) "$tmp/disk.raw")
mkfs.ext4 -q -L otopi-root "$loop"
uuid=$(blkid -s UUID -o value "$loop")
mount "$loop" "$mnt"

lab_log "building the vm image from the base $base (log: $log)"
cp -a "$base/." "$mnt/"
t1=$(date +%s%N)

printf '#!/bin/sh\nexit 101\n' >"$mnt/usr/sbin/policy-rc.d"
chmod 755 "$mnt/usr/sbin/policy-rc.d"
{
  echo "deb $mirror $LAB_SUITE main"
  echo "deb $mirror $LAB_SUITE-updates main"
  if [ -n "$security" ]; then echo "deb $security $LAB_SUITE-security main"; fi
} >"$mnt/etc/apt/sources.list"
cp /etc/resolv.conf "$mnt/etc/resolv.conf"
printf 'UUID=%s / ext4 errors=remount-ro 0 1\n' "$uuid" >"$mnt/etc/fstab"
mount -t proc proc "$mnt/proc"
mount -t sysfs sysfs "$mnt/sys"
mount --bind /dev "$mnt/dev"
mount -t devpts devpts "$mnt/dev/pts"
mount --bind "$LAB_CACHE/debs" "$mnt/var/cache/apt/archives"
# A real reboot, not kexec; kdump on; grub installed below, by hand.
chroot "$mnt" debconf-set-selections <<'SEL'
kexec-tools kexec-tools/load_kexec boolean false
kexec-tools kexec-tools/use_grub_config boolean true
kdump-tools kdump-tools/use_kdump boolean true
grub-pc grub-pc/install_devices multiselect
grub-pc grub-pc/install_devices_empty boolean true
SEL
mkdir -p "$mnt/etc/default/grub.d"
cat >"$mnt/etc/default/grub.d/10-otopi-lab.cfg" <<'GRUB'
# lab vm: serial console, eth0.. names, no menu
GRUB_TIMEOUT=0
GRUB_TIMEOUT_STYLE=hidden
GRUB_TERMINAL=serial
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
GRUB_CMDLINE_LINUX_DEFAULT="console=ttyS0,115200 net.ifnames=0"
GRUB_DISABLE_OS_PROBER=true
GRUB
# Initrds with the few modules a lab VM boots from, not initramfs-tools' "most": under TCG udev
# loading the SCSI, ATA and other drivers of "most" cost tens of seconds at every boot. The list
# is fixed (MODULES=list), so kdump-tools' crash initrd, which takes its settings from here, is
# made in the chroot as well, instead of from the running kernel's modules at the first boot.
mkdir -p "$mnt/etc/initramfs-tools/conf.d" "$mnt/usr/share/initramfs-tools/modules.d"
echo MODULES=list >"$mnt/etc/initramfs-tools/conf.d/10-otopi-lab"
printf '%s\n' virtio_pci virtio_blk ext4 >"$mnt/usr/share/initramfs-tools/modules.d/otopi-lab"
lab_log "installing $VM_PKGS"
{
  chroot "$mnt" apt-get update
  # shellcheck disable=SC2086  # package lists are word lists
  chroot "$mnt" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $VM_PKGS
} >>"$log" 2>&1 || { tail -20 "$log" >&2; lab_die "apt-get in the image failed (log: $log)"; }
t2=$(date +%s%N)

# fence_kdump_send, the crash kernel's sender of fence_kdump messages, from Debian's fence-agents:
# only that C program (it needs libc alone), without the package's many Python agents and their
# dependencies, which the lab does not use.
{
  ( cd "$mnt/tmp" && chroot "$mnt" sh -c 'cd /tmp && apt-get download fence-agents' )
  dpkg-deb --fsys-tarfile "$mnt"/tmp/fence-agents_*.deb | tar -x -C "$mnt" ./usr/libexec/fence-agents/fence_kdump_send
  rm -f "$mnt"/tmp/fence-agents_*.deb
  test -x "$mnt/usr/libexec/fence-agents/fence_kdump_send"
} >>"$log" 2>&1 || { tail -20 "$log" >&2; lab_die "fence_kdump_send could not be added (log: $log)"; }
kver=$(basename "$(ls -d "$mnt"/lib/modules/*)")
{
  # grub-install cannot see a partition the kernel does not know; grub-mkimage makes the same
  # core image, and grub-boot.py writes it where grub-install would (the gap before the partition).
  chroot "$mnt" grub-mkimage -O i386-pc -o /boot/grub/otopi-core.img -p "(hd0,msdos1)/boot/grub" \
    biosdisk part_msdos ext2 search_fs_uuid
  cp -a "$mnt/usr/lib/grub/i386-pc/." "$mnt/boot/grub/i386-pc/"
  python3 "$VM_HERE/grub-boot.py" "$tmp/disk.raw" "$mnt/usr/lib/grub/i386-pc/boot.img" "$mnt/boot/grub/otopi-core.img"
  rm "$mnt/boot/grub/otopi-core.img"
} >>"$log" 2>&1 || { tail -20 "$log" >&2; lab_die "grub setup failed (log: $log)"; }
# update-grub refuses a root on a loop device: it is run by booting the image once (below), from
# this hand-written configuration, which the first update-grub replaces.
cat >"$mnt/boot/grub/grub.cfg" <<GRUBCFG
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
insmod part_msdos
insmod ext2
search --no-floppy --fs-uuid --set=root $uuid
linux /boot/vmlinuz-$kver root=UUID=$uuid ro console=ttyS0,115200 net.ifnames=0 crashkernel=384M-:128M
initrd /boot/initrd.img-$kver
boot
GRUBCFG
# kdump-tools' crash initrd (its kernel hook runs only when kdump-tools was there before the kernel).
{
  ls "$mnt/var/lib/kdump/initrd.img-$kver" 2>/dev/null || chroot "$mnt" /etc/kernel/postinst.d/kdump-tools "$kver"
  # kdump-config makes the initrd again when the sysctls it was made with are not recorded.
  cp "$mnt/etc/kdump/sysctl.conf" "$mnt/var/lib/kdump/latest_sysctls-$kver"
  ls -l "$mnt/boot/initrd.img-$kver" "$mnt/var/lib/kdump/initrd.img-$kver"
} >>"$log" 2>&1 || { tail -20 "$log" >&2; lab_die "kdump-tools' initrd could not be made (log: $log)"; }
touch "$mnt/etc/otopi-lab-finalize"
cat >"$mnt/etc/systemd/system/otopi-lab-finalize.service" <<'UNIT'
[Unit]
Description=Finish the lab's vm image: grub configuration (and kdump's initrd when missing)
ConditionPathExists=/etc/otopi-lab-finalize
After=multi-user.target

[Service]
Type=oneshot
StandardOutput=journal+console
ExecStart=/bin/sh -ec 'update-grub; ls /var/lib/kdump/initrd.img-* || /etc/kernel/postinst.d/kdump-tools "$(uname -r)"; \
  grep -q "linux.*/boot/vmlinuz" /boot/grub/grub.cfg; ls /var/lib/kdump/initrd.img-*; \
  rm -f /etc/otopi-lab-finalize /var/lib/otopi-lab/seeded; systemctl disable otopi-lab-finalize; \
  echo otopi-lab-finalize: ok; systemctl poweroff'

[Install]
WantedBy=multi-user.target
UNIT
chroot "$mnt" systemctl enable otopi-lab-finalize.service >>"$log" 2>&1

rm -f "$mnt/usr/sbin/policy-rc.d" "$mnt"/etc/ssh/ssh_host_*
: >"$mnt/etc/machine-id"
rm -f "$mnt/var/lib/dbus/machine-id" "$mnt/etc/hostname"
printf '# lab vm: no DNS server is reachable\noptions timeout:1 attempts:1\n' >"$mnt/etc/resolv.conf"
echo "# lab vm: sources are in sources.list.d" >"$mnt/etc/apt/sources.list"
# The .deb cache is shared with the lab's other builds: unmount it before cleaning.
umount "$mnt/var/cache/apt/archives"
chroot "$mnt" apt-get clean
rm -rf "$mnt"/var/lib/apt/lists/*
mkdir -p "$mnt/var/lib/apt/lists/partial" "$mnt/etc/ssh/sshd_config.d"
cat >"$mnt/etc/ssh/sshd_config.d/10-otopi-lab.conf" <<'SSHD'
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
MaxStartups 100:30:200
MaxSessions 50
SSHD
mkdir -p "$mnt/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=8M\n' >"$mnt/etc/systemd/journald.conf.d/10-otopi-lab.conf"
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service dpkg-db-backup.timer fstrim.timer \
  man-db.timer getty@tty1.service serial-getty@ttyS0.service; do
  ln -sf /dev/null "$mnt/etc/systemd/system/$u"
done
printf 'auto lo\niface lo inet loopback\n\nsource /etc/network/interfaces.d/*\n' >"$mnt/etc/network/interfaces"
# The per-VM identity (host key, hostname, network) comes from a small seed disk, once.
install -m 755 "$VM_HERE/seed-apply.sh" "$mnt/usr/local/sbin/otopi-lab-seed"
cat >"$mnt/etc/systemd/system/otopi-lab-seed.service" <<'UNIT'
[Unit]
Description=Apply the lab's seed disk (hostname, host key, network), once
DefaultDependencies=no
ConditionPathExists=!/var/lib/otopi-lab/seeded
Wants=dev-disk-by\x2dlabel-otopi\x2dseed.device
After=dev-disk-by\x2dlabel-otopi\x2dseed.device local-fs.target
Before=network-pre.target ssh.service systemd-hostnamed.service sysinit.target
Wants=network-pre.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/otopi-lab-seed

[Install]
WantedBy=sysinit.target
UNIT
chroot "$mnt" systemctl enable otopi-lab-seed.service >>"$log" 2>&1
mkdir -p "$mnt/var/lib/otopi-lab"
printf 'built %s\nsuite %s\nkernel %s\npackages %s\n' "$(date -u +%FT%TZ)" "$LAB_SUITE" "$kver" "$VM_PKGS" >"$mnt/etc/otopi-lab-vm"

for m in dev/pts dev sys proc; do umount "$mnt/$m"; done
size=$(du -sh "$mnt" | cut -f1)
umount "$mnt"
losetup -d "$loop"
loop=""
# Boot from a qcow2 copy: a VM started on the raw file right after the loop device was detached
# found grub's modules unreadable ("normal.mod not found"), while a copy of the same file booted.
sync
qemu-img convert -O qcow2 "$tmp/disk.raw" "$tmp/disk.qcow2"
rm -f "$tmp/disk.raw"
# The finishing boot, with an empty seed disk (the seed unit waits for one).
mkdir -p "$tmp/seed/root"
mkfs.ext4 -q -L otopi-seed -d "$tmp/seed" "$tmp/seed.img" 8M
t3=$(date +%s%N)
lab_log "booting the image once to finish it (console: $tmp/finalize.log)"
# TCG: KVM does not work on this machine (docs/lab.md). The monitor socket is for a look at a
# stuck boot (`xp` of the VGA text memory); the image is finished when the VM powers itself off.
qemu-system-x86_64 -machine pc,accel=tcg -cpu max -smp 1 -m "$VM_MEMORY" -nodefaults \
  -no-user-config -vga std -display none -serial "file:$tmp/finalize.log" \
  -monitor "unix:$tmp/monitor.sock,server=on,wait=off" \
  -drive "file=$tmp/disk.qcow2,format=qcow2,if=virtio,cache=unsafe" \
  -drive "file=$tmp/seed.img,format=raw,if=virtio,readonly=on" </dev/null >>"$log" 2>&1 &
qemu=$!
for _ in $(seq 1800); do kill -0 "$qemu" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$qemu" 2>/dev/null; then kill "$qemu"; wait "$qemu" || true; fi
wait "$qemu" 2>/dev/null || true
cat "$tmp/finalize.log" >>"$log"
grep -q 'otopi-lab-finalize: ok' "$tmp/finalize.log" ||
  { tail -30 "$tmp/finalize.log" >&2; lab_die "the finishing boot failed (log: $log)"; }
t4=$(date +%s%N)
rm -f "$tmp/seed.img" "$tmp/finalize.log" "$tmp/monitor.sock"
rm -rf "$tmp/seed"
rmdir "$mnt"
echo "$kver" >"$tmp/kernel"
if [ -d "$VM_IMAGE" ]; then
  mv "$VM_IMAGE" "$VM_IMAGE.old.$$"
  mv "$tmp" "$VM_IMAGE"
  rm -rf --one-file-system "$VM_IMAGE.old.$$"
else
  mv "$tmp" "$VM_IMAGE"
fi
span() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) / 1e9 }'; }
lab_log "vm image ready in $(lab_since "$t0") s (copy of the base $(span "$t0" "$t1") s, apt $(span "$t1" "$t2") s, finishing boot $(span "$t3" "$t4") s, $size, qcow2 $(du -h "$VM_IMAGE/disk.qcow2" | cut -f1)): $VM_IMAGE"
echo "$VM_IMAGE"
