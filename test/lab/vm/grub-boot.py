#!/usr/bin/env python3
"""Writes grub's BIOS boot code into a disk image file, as grub-bios-setup does for a disk whose
first partition starts at sector 2048: boot.img into the MBR (its partition table kept), core.img
into sectors 1.. (the embedding gap), with the two sector numbers the boot code reads patched in.
Usage: grub-boot.py DISK BOOT_IMG CORE_IMG"""
import struct
import sys

SECTOR = 512
KERNEL_SECTOR = 0x5C  # boot.img: where core.img starts (64-bit)
DRIVE_CHECK = 0x66  # boot.img: a floppy check, replaced by two NOPs for hard disks
TABLE = 0x1B8  # MBR: disk signature and partition table, kept
BLOCKLIST = SECTOR - 12  # diskboot (core.img's first sector): start (64), length (16), segment (16)

disk_path, boot_path, core_path = sys.argv[1:4]
boot = bytearray(open(boot_path, 'rb').read())
core = bytearray(open(core_path, 'rb').read())
if len(boot) != SECTOR:
    sys.exit(f'{boot_path}: expected {SECTOR} bytes')
sectors = (len(core) + SECTOR - 1) // SECTOR
if sectors + 1 > 2048:
    sys.exit('core.img does not fit before the partition')
core += bytes(sectors * SECTOR - len(core))
struct.pack_into('<Q', boot, KERNEL_SECTOR, 1)
boot[DRIVE_CHECK:DRIVE_CHECK + 2] = b'\x90\x90'
struct.pack_into('<QH', core, BLOCKLIST, 2, sectors - 1)
with open(disk_path, 'r+b') as disk:
    mbr = bytearray(disk.read(SECTOR))
    mbr[:TABLE] = boot[:TABLE]
    disk.seek(0)
    disk.write(mbr)
    disk.seek(SECTOR)
    disk.write(core)
