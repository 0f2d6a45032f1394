"""The default ISO 8583 profile (UnionPay POS dialect) as a pyiso8583 4.0.1 spec.

This module is the acquirer's side of the profile, written against pyiso8583 and not against
softpos's own codec, so every message crosses two independent implementations. The field table
below is the profile's table; `SPEC` is what pyiso8583 encodes and decodes with.

What pyiso8583 does and what is done here around it:

- The 2-byte big-endian frame length is not part of an ISO 8583 message for pyiso8583: `frame`
  adds it and `unframe` checks and strips it.
- TPDU (5 bytes) and header (6 bytes) are pyiso8583's header field "h", 11 binary bytes; `Message`
  splits them, so the answer can swap the TPDU's addresses and flag the header.
- MTI "t" is binary (2 bytes BCD), the primary bitmap "p" binary; fields 1 and 65-128 are not in
  the spec, and `decode` refuses a bitmap naming any field outside the table by its number
  (pyiso8583 alone would fail with a bare KeyError).
- n fields: data_enc "b" with len_count "nibbles", so LL/LLL prefixes (BCD, len_enc "bcd")
  count digits and odd digit counts get a trailing `0` nibble (right_pad "0"), for the fixed
  field 22 (`012` -> 01 20) as for the variable ones (2, 48, 60, 61). pyiso8583 treats BCD as
  hex and would accept A-F nibbles in an n field; `decode` and `encode` refuse them (the one
  place the profile says more than pyiso8583 can).
- an/ans fields: ASCII with BCD prefixes counting bytes; b fields (62, 64) binary, prefixes
  counting bytes. pyiso8583 gives binary data as upper-case hex; `Message.fields` keeps
  lower-case hex, as vectors.json does.

Named `profile.py` as the brief of the peer asks; it shadows the standard library's `profile`
module for scripts in this folder, which none of them use.
"""

from __future__ import annotations

import dataclasses
import iso8583

# field: (format, length, prefix bytes: 0 fixed, 1 LL, 2 LLL, description)
FIELDS: dict[int, tuple[str, int, int, str]] = {
    2: ("n", 19, 1, "PAN"),
    3: ("n", 6, 0, "processing code"),
    4: ("n", 12, 0, "amount, minor units"),
    11: ("n", 6, 0, "trace number"),
    12: ("n", 6, 0, "local time hhmmss"),
    13: ("n", 4, 0, "local date MMDD"),
    14: ("n", 4, 0, "expiry YYMM"),
    15: ("n", 4, 0, "settlement date MMDD"),
    22: ("n", 3, 0, "entry mode"),
    25: ("n", 2, 0, "condition code"),
    37: ("an", 12, 0, "retrieval reference number"),
    38: ("an", 6, 0, "authorisation code"),
    39: ("an", 2, 0, "response code"),
    41: ("ans", 8, 0, "terminal id"),
    42: ("ans", 15, 0, "merchant id"),
    48: ("n", 322, 2, "settlement totals / batch upload records"),
    49: ("an", 3, 0, "currency"),
    60: ("n", 19, 2, "60.1 kind, 60.2 batch, 60.3 network code"),
    61: ("n", 29, 2, "original data: batch, trace, date"),
    62: ("b", 512, 2, "working keys"),
    63: ("ans", 163, 2, "63.1 operator"),
    64: ("b", 8, 0, "MAC"),
}

TPDU_LEN = 5
HEADER_LEN = 6


def _field_spec(fmt: str, length: int, prefix: int, desc: str) -> dict:
    if fmt == "n":
        return {
            "data_enc": "b",
            "len_enc": "bcd",
            "len_type": prefix,
            "max_len": length,
            "len_count": "nibbles",
            "right_pad": "0",
            "desc": desc,
        }
    return {
        "data_enc": "b" if fmt == "b" else "ascii",
        "len_enc": "bcd",
        "len_type": prefix,
        "max_len": length,
        "len_count": "bytes",
        "desc": desc,
    }


SPEC: dict[str, dict] = {
    "h": {
        "data_enc": "b",
        "len_enc": "bcd",
        "len_type": 0,
        "max_len": TPDU_LEN + HEADER_LEN,
        "desc": "TPDU and header",
    },
    "t": {"data_enc": "b", "len_enc": "bcd", "len_type": 0, "max_len": 2, "desc": "MTI"},
    "p": {"data_enc": "b", "len_enc": "bcd", "len_type": 0, "max_len": 8, "desc": "Bitmap"},
    **{str(k): _field_spec(*v) for k, v in FIELDS.items()},
}


class ProfileError(ValueError):
    """A frame or a message that the profile does not allow; names the field when there is one."""


@dataclasses.dataclass
class Message:
    """One message: TPDU and header as lower-case hex, MTI as 4 digits, fields by number as
    their logical text (n without padding, an/ans as text, b as lower-case hex)."""

    tpdu: str
    header: str
    mti: str
    fields: dict[str, str]

    def get(self, field: int, default: str | None = None) -> str | None:
        return self.fields.get(str(field), default)


def _check_digits(key: str, value: str) -> None:
    if not value.isdigit() or not value.isascii():
        raise ProfileError(f"field {key}: not digits")


def to_pyiso(msg: Message) -> dict[str, str]:
    """The dict pyiso8583 encodes."""
    doc = {"h": msg.tpdu + msg.header, "t": msg.mti}
    for key, value in msg.fields.items():
        number = int(key)
        if number not in FIELDS:
            raise ProfileError(f"field {key}: not in the profile")
        if FIELDS[number][0] == "n":
            _check_digits(key, value)
        doc[key] = value
    return doc


def encode(msg: Message) -> bytes:
    """The message without its length prefix."""
    if len(msg.tpdu) != 2 * TPDU_LEN or len(msg.header) != 2 * HEADER_LEN:
        raise ProfileError("TPDU or header of the wrong length")
    _check_digits("t", msg.mti)
    try:
        raw, _ = iso8583.encode(to_pyiso(msg), SPEC)
    except iso8583.EncodeError as e:
        raise ProfileError(str(e)) from None
    return bytes(raw)


def frame(msg: Message) -> bytes:
    """The whole frame: 2-byte big-endian length, then the message."""
    body = encode(msg)
    return len(body).to_bytes(2, "big") + body


def _bitmap_fields(body: bytes) -> list[int]:
    start = TPDU_LEN + HEADER_LEN + 2
    bitmap = body[start : start + 8]
    if len(bitmap) != 8:
        raise ProfileError("field p: short bitmap")
    bits = int.from_bytes(bitmap, "big")
    return [i + 1 for i in range(64) if bits & (1 << (63 - i))]


def from_pyiso(doc: dict[str, str]) -> Message:
    """A pyiso8583 decoded dict as a Message (binary fields lower-cased)."""
    fields = {}
    for key, value in doc.items():
        if not key.isdigit():
            continue
        if FIELDS[int(key)][0] == "n":
            _check_digits(key, value)
        fields[key] = value.lower() if FIELDS[int(key)][0] == "b" else value
    return Message(tpdu=doc["h"][: 2 * TPDU_LEN].lower(), header=doc["h"][2 * TPDU_LEN :].lower(), mti=doc["t"], fields=fields)


def decode(body: bytes) -> Message:
    """A message without its length prefix; refuses trailing bytes and fields outside the profile."""
    unknown = [f for f in _bitmap_fields(body) if f not in FIELDS]
    if unknown:
        raise ProfileError(f"field {unknown[0]}: not in the profile")
    try:
        doc, _ = iso8583.decode(body, SPEC)
    except iso8583.DecodeError as e:
        raise ProfileError(str(e)) from None
    _check_digits("t", doc["t"])
    return from_pyiso(doc)


def unframe(data: bytes) -> Message:
    """A whole frame, length prefix included; the prefix must count exactly the rest."""
    if len(data) < 2 or int.from_bytes(data[:2], "big") != len(data) - 2:
        raise ProfileError("frame length does not match")
    return decode(data[2:])


# The composite fields, as the profile lays them out.


def field60(kind: str, batch: str, network: str | None = None) -> str:
    """60.1 message kind n2, 60.2 batch n6, 60.3 network code n3 (management messages only)."""
    return kind + batch + (network or "")


def split60(value: str) -> tuple[str, str, str]:
    return value[0:2], value[2:8], value[8:11]


def field61(batch: str, trace: str, date: str = "") -> str:
    """61.1 original batch n6, 61.2 original trace n6, 61.3 original date MMDD n4 (refunds)."""
    return batch + trace + date


def split61(value: str) -> tuple[str, str, str]:
    return value[0:6], value[6:12], value[12:16]


SETTLEMENT_BALANCED = "1"
SETTLEMENT_UNBALANCED = "2"
SETTLEMENT_ERROR = "3"


@dataclasses.dataclass(frozen=True)
class Totals:
    debit_amount: int
    debit_count: int
    credit_amount: int
    credit_count: int


def field48_totals(t: Totals, flag: str = "0") -> str:
    """0500/0510 field 48: the domestic totals, the flag digit (0 in the request), 31 zeros."""
    return f"{t.debit_amount:012d}{t.debit_count:03d}{t.credit_amount:012d}{t.credit_count:03d}{flag}" + "0" * 31


def split48_totals(value: str) -> tuple[Totals, str]:
    if len(value) != 62:
        raise ProfileError("field 48: settlement totals are 62 digits")
    t = Totals(int(value[0:12]), int(value[12:15]), int(value[15:27]), int(value[27:30]))
    return t, value[30]


@dataclasses.dataclass(frozen=True)
class UploadRecord:
    kind: str
    trace: str
    amount: int
    rrn: str


def field48_upload(records: list[UploadRecord]) -> str:
    """0320 field 48: record count n2, then per record kind n2, trace n6, amount n12, RRN n12."""
    if len(records) > 8:
        raise ProfileError("field 48: at most 8 upload records a message")
    return f"{len(records):02d}" + "".join(f"{r.kind}{r.trace}{r.amount:012d}{r.rrn}" for r in records)


def split48_upload(value: str) -> list[UploadRecord]:
    count = int(value[0:2]) if len(value) >= 2 else -1
    if count < 0 or count > 8 or len(value) != 2 + 32 * count:
        raise ProfileError("field 48: upload records do not match their count")
    out = []
    for i in range(count):
        r = value[2 + 32 * i : 2 + 32 * (i + 1)]
        out.append(UploadRecord(r[0:2], r[2:8], int(r[8:20]), r[20:32]))
    return out


def answer_tpdu(tpdu: str) -> str:
    """The answer's TPDU: the request's with destination and source swapped."""
    return tpdu[0:2] + tpdu[6:10] + tpdu[2:6]


SIGN_IN_AGAIN = 3


def processing_requirement(header: str) -> int:
    """The low nibble of the header's third byte."""
    return int(header[5], 16)


def with_processing_requirement(header: str, value: int) -> str:
    return header[:5] + format(value, "x") + header[6:]


def mask_pan(pan: str) -> str:
    """First six and last four digits, as softpos masks a card everywhere."""
    n = len(pan)
    return pan[:6] + "*" * (n - 10) + pan[-4:] if n >= 13 else "*" * n


def masked_fields(fields: dict[str, str]) -> dict[str, str]:
    """The fields as a journal may keep them: PAN first6/last4, expiry and keys hidden."""
    out = dict(fields)
    if "2" in out:
        out["2"] = mask_pan(out["2"])
    for secret in ("14", "62"):
        if secret in out:
            out[secret] = "*" * len(out[secret])
    return out
