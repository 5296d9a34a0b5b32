"""Sends every frame of a little-endian pcap file out of a network interface (AF_PACKET),
for the live-capture test. Usage: inject.py CAPTURE INTERFACE; prints the frames sent."""
import socket
import struct
import sys

data = open(sys.argv[1], "rb").read()
magic = struct.unpack("<I", data[:4])[0]
if magic not in (0xA1B2C3D4, 0xA1B23C4D):
    sys.exit(f"{sys.argv[1]}: not a little-endian pcap file")
out = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
out.bind((sys.argv[2], 0))
offset, sent = 24, 0
while offset + 16 <= len(data):
    _, _, captured, _ = struct.unpack("<IIII", data[offset : offset + 16])
    offset += 16
    out.send(data[offset : offset + captured])
    offset += captured
    sent += 1
print(sent)
