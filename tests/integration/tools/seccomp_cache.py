#!/usr/bin/env python3
"""Forges files of tether's seccomp program cache (runtime/sandbox/seccomp_cache.hpp)
for the tests that plant them: a hostile writer who knows the format.

  seccomp_cache.py splice KEYED PROGRAM OUT   KEYED's magic and key, PROGRAM's
                                              instructions, KEYED's (now wrong) checksum
  seccomp_cache.py resign FILE                recompute FILE's checksum in place
"""
import struct
import sys

MAGIC = b"tether-seccomp-cache v1\n"


def parse(data):
    assert data.startswith(MAGIC), "not a cache file"
    pos = len(MAGIC)
    (key_len,) = struct.unpack_from("=I", data, pos)
    pos += 4
    key = data[pos:pos + key_len]
    pos += key_len
    (count,) = struct.unpack_from("=I", data, pos)
    pos += 4
    program = data[pos:pos + 8 * count]
    return key, count, program, data[-8:]


def fnv1a(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def body(key, count, program):
    return MAGIC + struct.pack("=I", len(key)) + key + struct.pack("=I", count) + program


def main(argv):
    if argv[1] == "splice":
        key, _, _, checksum = parse(open(argv[2], "rb").read())
        _, count, program, _ = parse(open(argv[3], "rb").read())
        open(argv[4], "wb").write(body(key, count, program) + checksum)
    elif argv[1] == "resign":
        data = open(argv[2], "rb").read()
        b = data[:-8]
        open(argv[2], "wb").write(b + struct.pack("=Q", fnv1a(b)))
    else:
        sys.exit(__doc__)


main(sys.argv)
