"""vectors.json against pyiso8583: each vector decodes to its fields and re-encodes to its hex,
and vectors.py still writes exactly the checked-in file."""

from __future__ import annotations

import json
import pathlib
import unittest

import iso8583

import vectors
from profile import SPEC, from_pyiso, to_pyiso

PATH = pathlib.Path(__file__).with_name("vectors.json")


class Vectors(unittest.TestCase):
    def setUp(self) -> None:
        self.doc = json.loads(PATH.read_text())

    def test_every_vector_decodes_to_its_fields_and_re_encodes_to_its_hex(self) -> None:
        self.assertEqual((self.doc["tpdu"], self.doc["header"]), ("6000030000", "603100000000"))
        for v in self.doc["vectors"]:
            with self.subTest(v["name"]):
                raw = bytes.fromhex(v["hex"])
                self.assertEqual(v["hex"], raw.hex(), "lower-case hex")
                self.assertEqual(int.from_bytes(raw[:2], "big"), len(raw) - 2)
                decoded, _ = iso8583.decode(raw[2:], SPEC)
                msg = from_pyiso(decoded)
                self.assertEqual((msg.tpdu, msg.header, msg.mti, msg.fields), (v["tpdu"], v["header"], v["mti"], v["fields"]))
                again, _ = iso8583.encode(to_pyiso(msg), SPEC)
                self.assertEqual(bytes(again), raw[2:])

    def test_the_table_of_messages_is_covered(self) -> None:
        mtis = {v["mti"] for v in self.doc["vectors"]}
        for mti in ("0800", "0810", "0200", "0210", "0220", "0230", "0100", "0110", "0400", "0410",
                    "0500", "0510", "0320", "0330", "0820", "0830"):
            self.assertIn(mti, mtis)
        pans = {len(v["fields"]["2"]) for v in self.doc["vectors"] if "2" in v["fields"]}
        self.assertEqual(pans, {16, 19})
        self.assertTrue(any(v["header"][5] == "3" for v in self.doc["vectors"]))

    def test_the_file_is_what_vectors_py_writes(self) -> None:
        self.assertEqual(json.loads(PATH.read_text()), vectors.build())


if __name__ == "__main__":
    unittest.main()
