"""ICMP prober for the lab: sends one ICMP(v6) request of any type and code, which ping
cannot, from a raw socket and waits for its answer.

Usage: icmp-probe.py FAMILY(4|6) HOST TYPE CODE TIMEOUT_MS
Prints one JSON line {outcome, code}: `allow` (the reply came back), `reject` (an ICMP
error quoting this request came back), `deny` (nothing before the timeout).
"""
import json
import os
import select
import socket
import struct
import sys
import time

# Request type -> reply type; only requests that the Linux kernel answers itself.
REPLIES = {4: {8: 0, 13: 14}, 6: {128: 129}}
# Error types whose body quotes the offending packet (IP header, then our ICMP header).
ERRORS = {4: {3, 11, 12}, 6: {1, 2, 3, 4}}


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def main() -> None:
    family, host, icmp_type, icmp_code, timeout_ms = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    reply_type = REPLIES[family].get(icmp_type)
    if reply_type is None:
        raise SystemExit(f"no known reply to ICMP type {icmp_type} on IPv{family}")
    # Random id, sequence and token: no other probe's reply (ping's included) can pass for ours.
    ident, seq = struct.unpack("!HH", os.urandom(4))
    token = os.urandom(4)
    # Echo replies return the payload; a timestamp reply returns the originate timestamp.
    body = token + bytes(8) if icmp_type == 13 else token + b"netintent-lab"
    header = struct.pack("!BBHHH", icmp_type, icmp_code, 0, ident, seq)
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    target = socket.inet_pton(af, host)
    if family == 4:
        sock = socket.socket(af, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        packet = struct.pack("!BBHHH", icmp_type, icmp_code, checksum(header + body), ident, seq) + body
    else:
        # The kernel fills in the ICMPv6 checksum (it covers the pseudo-header).
        sock = socket.socket(af, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        packet = header + body
    sock.sendto(packet, (host, 0))

    deadline = time.monotonic() + timeout_ms / 1000
    while (left := deadline - time.monotonic()) > 0:
        if not select.select([sock], [], [], left)[0]:
            break
        data, (src, *_) = sock.recvfrom(65535)
        # IPv4 raw sockets deliver the IP header, IPv6 ones only the ICMPv6 message.
        icmp = data[(data[0] & 0x0F) * 4 :] if family == 4 else data
        if len(icmp) < 8:
            continue
        rtype, rcode, _, rid, rseq = struct.unpack("!BBHHH", icmp[:8])
        if rtype == reply_type and socket.inet_pton(af, src) == target and (rid, rseq) == (ident, seq) and icmp[8:12] == token:
            print(json.dumps({"outcome": "allow", "code": f"reply {rtype}/{rcode}"}))
            return
        if rtype in ERRORS[family]:
            quoted = icmp[8:]
            inner = quoted[(quoted[0] & 0x0F) * 4 :] if family == 4 and quoted else quoted[40:]
            if len(inner) >= 8 and struct.unpack("!HH", inner[4:8]) == (ident, seq):
                print(json.dumps({"outcome": "reject", "code": f"error {rtype}/{rcode} from {src}"}))
                return
    print(json.dumps({"outcome": "deny", "code": "timeout"}))


main()
