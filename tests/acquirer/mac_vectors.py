"""Writes mac_vectors.json: the MAC and working keys computed by pycryptodome, for the host's
Rust code to agree with (host/src/acquirer/iso/mac/tests.rs).

Run by hand (`target/acquirer-venv/bin/python tests/acquirer/mac_vectors.py`) when the MAC or
the profile changes; every key and message is fixed, so a rerun writes the same file.

- `field62`: the 0810's working keys (PIK, MAK, each under `tmk` with its check value); the
  host must get `mak` out of it.
- `macs`: X9.19 of raw bytes under `mak` across the padding cases, and X9.9's published vector.
- `frames`: every message of vectors.py that carries a MAC, signed under `mak`, as whole frames.
"""

from __future__ import annotations

import json
import pathlib

import vectors
from mac import carries_mac, check_value, sign, working_keys, x919
from profile import frame

OUT = pathlib.Path(__file__).with_name("mac_vectors.json")
TMK = bytes.fromhex("0123456789abcdeffedcba9876543210")
PIK = bytes.fromhex("1111111111111111" "2222222222222222")
MAK = bytes.fromhex("3b6a1f0c7d2e4958" "a4c1e3f7092b5d86")
# With both halves equal X9.19 is the single-DES CBC-MAC of X9.9, whose published test vector
# (FIPS 113: key 0123456789abcdef, "Now is the time for all ") is 70a30640cc76dd8b.
X99_KEY = bytes.fromhex("0123456789abcdef" * 2)
RAW = [
    ("one byte", MAK, b"\x01"),
    ("one block", MAK, bytes(range(8))),
    ("a block and 5", MAK, b"0200 with pad"),
    ("two blocks", MAK, bytes(range(16))),
    ("X9.9 test vector", X99_KEY, b"Now is the time for all "),
]


def build() -> dict:
    frames = []
    for name, msg in vectors.pairs():
        if not carries_mac(msg.mti):
            continue
        signed = sign(msg, MAK)
        frames.append({"name": name, "hex": frame(signed).hex(), "mac": signed.fields["64"]})
    return {
        "tmk": TMK.hex(),
        "pik": PIK.hex(),
        "mak": MAK.hex(),
        "mak_check": check_value(MAK).hex(),
        "field62": working_keys(TMK, PIK, MAK).hex(),
        "macs": [{"name": n, "key": k.hex(), "data": d.hex(), "mac": x919(k, d).hex()} for n, k, d in RAW],
        "frames": frames,
    }


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(), indent=1) + "\n")
    print(f"wrote {OUT} ({len(build()['frames'])} frames)")
