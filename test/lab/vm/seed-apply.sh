#!/bin/sh
# Runs once inside a lab VM, at its first boot: copies the files of the seed disk (label
# otopi-seed: hostname, hosts, host key, authorized key, network configuration, apt source)
# over the root file system. Installed into the image as /usr/local/sbin/otopi-lab-seed.
set -eu
mkdir -p /run/otopi-seed /var/lib/otopi-lab
mount -o ro LABEL=otopi-seed /run/otopi-seed
cp -a /run/otopi-seed/root/. /
umount /run/otopi-seed
hostname "$(cat /etc/hostname)"
touch /var/lib/otopi-lab/seeded
