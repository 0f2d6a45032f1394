"""The profile's MAC (field 64) and working keys (0810 field 62), on pycryptodome's DES.

Written from the description in README.md ("MAC"), not from softpos's Rust code, so the two
are held to each other by mac_vectors.json:

- Working keys in 0810 field 62, 40 bytes: PIK under the TMK (16) | PIK check value (4) |
  MAK under the TMK (16) | MAK check value (4). "Under the TMK" is 3DES ECB (two-key EDE); a
  check value is the first 4 bytes of the clear key encrypting 8 zero bytes.
- MAC input: the message from its MTI to just before field 64 (MTI, bitmap with bit 64 set,
  every field in order); not the length prefix, TPDU or header.
- X9.19: DES-CBC of the input zero-padded to a multiple of 8, zero IV, under the key's left
  half; the last block decrypted with the right half and encrypted with the left.
"""

from __future__ import annotations

import os

from Crypto.Cipher import DES, DES3

from profile import HEADER_LEN, TPDU_LEN, Message, encode

BLOCK = 8
MAC_FIELD = "64"
KEYS_FIELD = "62"


def _des(key: bytes):
    return DES.new(key, DES.MODE_ECB)


def _tdes(key: bytes):
    # DES3 refuses a key whose halves are equal (it would be single DES): keys here never are.
    return DES3.new(key, DES3.MODE_ECB)


def x919(key: bytes, data: bytes) -> bytes:
    """ANSI X9.19 retail MAC of `data` under the double-length `key`."""
    if len(key) != 16:
        raise ValueError("X9.19 takes a double-length key")
    left, right = _des(key[:8]), _des(key[8:])
    if not data:
        data = bytes(BLOCK)
    data += bytes(-len(data) % BLOCK)
    chain = bytes(BLOCK)
    for i in range(0, len(data), BLOCK):
        chain = left.encrypt(bytes(a ^ b for a, b in zip(chain, data[i : i + BLOCK])))
    return left.encrypt(right.decrypt(chain))


def check_value(key: bytes) -> bytes:
    return _tdes(key).encrypt(bytes(BLOCK))[:4]


def new_key() -> bytes:
    """A fresh double-length key whose halves differ."""
    while True:
        key = os.urandom(16)
        if key[:8] != key[8:]:
            return key


def working_keys(tmk: bytes, pik: bytes, mak: bytes) -> bytes:
    """Field 62 of the 0810: each key under the TMK, each followed by its check value."""
    under = _tdes(tmk).encrypt
    return under(pik) + check_value(pik) + under(mak) + check_value(mak)


def mak_of(tmk: bytes, field62: bytes) -> bytes:
    """The clear MAK of a field 62 (what the host does), checked against its check value."""
    if len(field62) not in (40, 60):
        raise ValueError("field 62: not PIK, MAK and check values")
    mak = _tdes(tmk).decrypt(field62[20:36])
    if check_value(mak) != field62[36:40]:
        raise ValueError("field 62: the MAK's check value does not match")
    return mak


def mac_input(msg: Message) -> bytes:
    """The bytes field 64 covers: the message encoded with 64 present, MTI up to 64."""
    with64 = Message(msg.tpdu, msg.header, msg.mti, {**msg.fields, MAC_FIELD: "00" * BLOCK})
    return encode(with64)[TPDU_LEN + HEADER_LEN : -BLOCK]


def sign(msg: Message, key: bytes) -> Message:
    """The message with its MAC in field 64."""
    mac = x919(key, mac_input(msg)).hex()
    return Message(msg.tpdu, msg.header, msg.mti, {**msg.fields, MAC_FIELD: mac})


def verifies(msg: Message, key: bytes) -> bool:
    mac = msg.get(64)
    return mac is not None and x919(key, mac_input(msg)).hex() == mac


def carries_mac(mti: str) -> bool:
    """Every message but network management (08xx: sign-in, sign-off, echo) carries a MAC."""
    return not mti.startswith("08")


class Keys:
    """The acquirer's side of the MAC: the TMK it shares with the host, and each terminal's MAK
    from its last sign-in (a fresh one every time)."""

    def __init__(self, tmk: bytes):
        check_value(tmk)  # refuses a key DES3 would not take
        self.tmk = tmk
        self.maks: dict[str, bytes] = {}

    def issue(self, terminal: str) -> str:
        """Field 62 (hex) of this terminal's 0810: a new PIK and MAK under the TMK."""
        mak = new_key()
        self.maks[terminal] = mak
        return working_keys(self.tmk, new_key(), mak).hex()

    def verifies(self, msg: Message) -> bool:
        key = self.maks.get(msg.get(41, ""))
        return key is not None and verifies(msg, key)

    def sign(self, msg: Message, terminal: str, corrupt: bool = False) -> Message:
        key = self.maks.get(terminal)
        if key is None:
            return msg
        signed = sign(msg, key)
        if corrupt:
            mac = bytearray.fromhex(signed.fields[MAC_FIELD])
            mac[0] ^= 0x01
            signed.fields[MAC_FIELD] = mac.hex()
        return signed
