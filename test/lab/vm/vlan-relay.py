#!/usr/bin/env python3
"""The lab switch's end of a VM's VLAN trunk. The machine's kernel has no 802.1Q support, so the
switch cannot take tagged frames itself: this relay sits between qemu's UDP network backend (the
VM's trunk NIC) and a tap device on the lab switch. Frames tagged with VID leave the VM untagged
on the switch; untagged frames from the switch reach the VM tagged with VID. Anything else the VM
sends (untagged, or another VLAN) is dropped, as a switch port trunking one VLAN would.
Usage: vlan-relay.py TAP VID LOCAL_PORT QEMU_PORT   (UDP on 127.0.0.1, in the switch namespace)"""
import fcntl
import os
import select
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
TPID = b'\x81\x00'

tap_name, vid, local_port, qemu_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
tag = TPID + struct.pack('!H', vid & 0x0FFF)
tap = os.open('/dev/net/tun', os.O_RDWR)
fcntl.ioctl(tap, TUNSETIFF, struct.pack('16sH', tap_name.encode(), IFF_TAP | IFF_NO_PI))
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(('127.0.0.1', local_port))
qemu = ('127.0.0.1', qemu_port)
print(f'relaying VLAN {vid}: {tap_name} <-> udp {local_port}/{qemu_port}', flush=True)
while True:
    ready, _, _ = select.select([tap, udp], [], [])
    if tap in ready:
        frame = os.read(tap, 65536)
        if len(frame) >= 14:
            udp.sendto(frame[:12] + tag + frame[12:], qemu)
    if udp in ready:
        frame = udp.recv(65536)
        if len(frame) >= 18 and frame[12:14] == TPID and struct.unpack('!H', frame[14:16])[0] & 0x0FFF == vid:
            os.write(tap, frame[:12] + frame[16:])
