"""The acquirer's decisions and books: what the peer answers to each request of the profile.

Pure and synchronous: `Ledger.answer` takes a decoded request and returns the answer's fields
and how to deliver it; peer.py does the network. Kept in memory only, for one run of the peer.
"""

from __future__ import annotations

import dataclasses
import time

from mac import Keys, carries_mac
from profile import (
    SETTLEMENT_BALANCED,
    SETTLEMENT_UNBALANCED,
    Message,
    Totals,
    field48_totals,
    split48_totals,
    split48_upload,
    split60,
    split61,
)

# The host simulator's cards (docs/rules.md, R5), decided the same way here.
DECLINED = {"4000000000000002": "05", "4000000000009995": "51", "4000000000000069": "54"}

# Scenario cards: each Luhn-valid, so a browser terminal accepts it.
HELD = "4000000000003220"  # approved, answer held back --hold-ms
CODE_94 = "4000000000000945"  # 94 duplicate transmission, not booked
CODE_98 = "4000000000000986"  # 98 issuer unreachable, not booked
CODE_A0 = "4000000000001000"  # A0 MAC error, not booked
NO_41 = "4000000000000416"  # approved, answer without field 41
DROP = "4000000000000861"  # approved, connection dropped halfway through the answer
BYTEWISE = "4000000000000010"  # approved, answer written one byte at a time

SCENARIO_CODES = {CODE_94: "94", CODE_98: "98", CODE_A0: "A0"}
DELIVERY = {HELD: "hold", NO_41: "omit41", DROP: "drop", BYTEWISE: "bytewise"}

# 60.1 message kinds.
SALE, VOID, REFUND, PREAUTH, PREAUTH_VOID, COMPLETION, COMPLETION_VOID = "22", "23", "25", "10", "11", "20", "21"
VOIDS = {VOID: SALE, PREAUTH_VOID: PREAUTH, COMPLETION_VOID: COMPLETION}
DEBITS = {SALE, COMPLETION}
# Pre-authorisation (R20): the MTI each kind travels in; field 25 is 06 for all four.
PREAUTH_KINDS = {PREAUTH: "0100", PREAUTH_VOID: "0100", COMPLETION: "0200", COMPLETION_VOID: "0200"}
PREAUTH_CONDITION = "06"
# What a completion may take of its hold, in percent.
COMPLETION_PERCENT = 115

FINANCIAL = {"0100", "0200", "0220"}


@dataclasses.dataclass
class Txn:
    terminal: str
    batch: str
    trace: str
    kind: str
    amount: int
    pan: str  # in memory only, for a void or refund of the same card; never journaled
    rrn: str
    auth: str
    date: str  # its settlement day (field 15 of its answer), MMDD: what a refund's 61.3 names
    code: str
    merchant: str = ""
    reversed: bool = False
    voided_by: str | None = None  # trace of the void standing against it
    refunded: int = 0
    completed_by: str | None = None  # a hold: trace of the completion standing against it
    original: tuple[str, str, str] | None = None  # (terminal, batch, trace) of what a void, completion or refund refers to


@dataclasses.dataclass
class Terminal:
    signed_in: bool = False
    batch: str = "000001"


@dataclasses.dataclass
class Answer:
    mti: str
    fields: dict[str, str]
    delivery: str = "normal"  # normal, hold, omit41, drop, bytewise
    sign_in_again: bool = False
    note: dict | None = None  # what the journal should add (upload comparison)


class Ledger:
    def __init__(self, keys: str | None = None, batch: str | None = None, resign: set[str] | None = None,
                 mac: Keys | None = None, settlement_date: str | None = None):
        self.keys = keys
        self.mac = mac  # MAC on: a MAK per terminal, every request but 08xx verified
        self.assign_batch = batch
        # Field 15 of every answer, MMDD: the acquirer's settlement day, which after its own
        # cut-off is not the calendar day (13). None: the calendar day.
        self.settlement_date = settlement_date
        self.resign = set(resign or ())
        self.terminals: dict[str, Terminal] = {}
        self.txns: dict[tuple[str, str, str], Txn] = {}  # (terminal, batch, trace)
        self.reversed: set[tuple[str, str, str]] = set()  # reversals that came before their original
        self.answers: dict[tuple[str, str, str, str], Answer] = {}  # repeated refund advices
        self.uploads: dict[tuple[str, str], list] = {}
        self.counter = 0

    # -- numbers the acquirer assigns

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def _now(self) -> dict[str, str]:
        t = time.localtime()
        return {"12": time.strftime("%H%M%S", t), "13": time.strftime("%m%d", t), "15": self._settlement_day()}

    def _settlement_day(self) -> str:
        """Field 15: the day a transaction is settled on, which a refund's 61.3 must name."""
        return self.settlement_date or time.strftime("%m%d")

    def _rrn(self, n: int) -> str:
        return time.strftime("%H%M%S") + f"{n % 1_000_000:06d}"

    # -- the entry point

    def terminal(self, tid: str) -> Terminal:
        return self.terminals.setdefault(tid, Terminal())

    def answer(self, req: Message) -> Answer | None:
        """The answer to a request, or None for a message that is no request (an answer MTI)."""
        if req.mti[2] not in "02" or req.mti[3] != "0":
            return None
        mti = f"{int(req.mti) + 10:04d}"
        tid = req.get(41, "")
        if self.mac is not None and carries_mac(req.mti) and not self.mac.verifies(req):
            # Our MAC check failed (or the terminal never signed in): A0, nothing booked, and the
            # answer goes without a MAC (the key it would be made with is in doubt).
            fields = {**self._echo(req, 11), "39": "A0", **{k: v for k, v in (("41", tid), ("42", req.get(42))) if v}}
            return Answer(mti, fields, note={"mac": "wrong"})
        handler = {
            "0800": self._sign_in,
            "0820": self._management,
            "0400": self._reversal,
            "0500": self._settlement,
            "0320": self._upload,
        }.get(req.mti)
        if handler is None and req.mti in FINANCIAL:
            handler = self._financial
        ans = handler(req, mti) if handler else Answer(mti, {**self._echo(req, 11), "39": "12"})
        ans.fields.update({k: v for k, v in (("41", tid), ("42", req.get(42))) if v is not None})
        if req.mti != "0800" and tid in self.resign:
            self.resign.discard(tid)
            self.terminal(tid).signed_in = False
            ans.sign_in_again = True
        if ans.delivery == "omit41":
            ans.fields.pop("41", None)
        return ans

    @staticmethod
    def _echo(req: Message, *keys: int) -> dict[str, str]:
        return {str(k): req.fields[str(k)] for k in keys if str(k) in req.fields}

    # -- management

    def _sign_in(self, req: Message, mti: str) -> Answer:
        term = self.terminal(req.get(41, ""))
        kind, batch, network = split60(req.get(60, ""))
        batch = self.assign_batch or (batch if batch.strip("0") else term.batch)
        term.signed_in, term.batch = True, batch
        fields = {**self._echo(req, 11), **self._now(), "39": "00", "60": kind + batch + network}
        if self.mac is not None:
            fields["62"] = self.mac.issue(req.get(41, ""))
        elif self.keys:
            fields["62"] = self.keys
        return Answer(mti, fields)

    def _management(self, req: Message, mti: str) -> Answer:
        network = split60(req.get(60, ""))[2]
        code = "00" if network in ("002", "301") else "12"
        if network == "002" and code == "00":
            self.terminal(req.get(41, "")).signed_in = False
        return Answer(mti, {**self._echo(req, 11, 60), **self._now(), "39": code})

    # -- money

    def _financial(self, req: Message, mti: str) -> Answer:
        tid = req.get(41, "")
        kind, batch, _ = split60(req.get(60, ""))
        key = (tid, batch, req.get(11, ""))
        replay = self.answers.get((*key, req.mti))
        if replay is not None:
            # A refund advice sent again: the same answer, booked once.
            return Answer(mti, dict(replay.fields), "bytewise" if replay.delivery == "bytewise" else "normal")
        fields = {**self._echo(req, 3, 4, 11, 25, 49, 60, 61), **self._now()}
        if key in self.txns:
            return Answer(mti, {**fields, "39": "94"})
        if not self._well_formed(req, kind):
            return Answer(mti, {**fields, "39": "30"})
        original = self._original(req, kind)
        pan = req.get(2) or (original.pan if isinstance(original, Txn) else "")
        code = original if isinstance(original, str) else self._decide(pan)
        n = self._next()
        rrn = req.get(37) if kind in VOIDS and req.get(37) else self._rrn(n)
        auth = f"{n:06d}" if code == "00" else ""
        fields.update({"37": rrn, "39": code})
        if auth:
            fields["38"] = req.get(38) if kind in VOIDS and req.get(38) else auth
        if code == "00":
            self._book(req, kind, batch, pan, rrn, auth, original if isinstance(original, Txn) else None)
        ans = Answer(mti, fields, DELIVERY.get(pan, "normal"))
        if req.mti == "0220":
            self.answers[(*key, req.mti)] = ans
        return ans

    @staticmethod
    def _well_formed(req: Message, kind: str) -> bool:
        """Pre-authorisation's own form: its MTI, field 25 = 06, and 38 (the hold's or the
        completion's auth code) on what names a hold or a completion; else 30 format error."""
        condition = req.get(25)
        if kind not in PREAUTH_KINDS:
            return condition in (None, "00")
        if req.mti != PREAUTH_KINDS[kind] or condition != PREAUTH_CONDITION:
            return False
        return kind == PREAUTH or bool(req.get(38))

    @staticmethod
    def _decide(pan: str) -> str:
        return SCENARIO_CODES.get(pan) or DECLINED.get(pan) or "00"

    def _original(self, req: Message, kind: str) -> Txn | str | None:
        """What a void, completion or refund refers to, or the response code when it fails."""
        if kind not in VOIDS and kind not in (COMPLETION, REFUND):
            return None
        tid = req.get(41, "")
        obatch, otrace, odate = split61(req.get(61, ""))
        want = VOIDS.get(kind) or (PREAUTH if kind == COMPLETION else SALE)
        if want == PREAUTH:
            # A hold is the merchant's: a hotel completes it at another counter's terminal,
            # so it is found by merchant, 61.1-61.2 and its auth code (38), not by terminal.
            orig = next((t for t in self.txns.values() if t.kind == PREAUTH and t.merchant == req.get(42)
                         and (t.batch, t.trace, t.auth) == (obatch, otrace, req.get(38))), None)
        else:
            orig = self.txns.get((tid, obatch, otrace))
        if orig is None or orig.reversed or orig.code != "00" or orig.kind != want:
            return "25"
        amount = int(req.get(4, "0"))
        if want == PREAUTH and orig.voided_by:
            return "25"  # released
        if want == PREAUTH and orig.completed_by:
            return "12"  # a hold completes once
        if kind == COMPLETION_VOID and req.get(38) != orig.auth:
            return "25"
        if kind in VOIDS:
            if req.get(37) not in (None, orig.rrn) or amount != orig.amount:
                return "25"
            return "12" if orig.voided_by else orig
        if kind == COMPLETION:
            # At most 115 % of the hold, in whole minor units.
            return orig if amount * 100 <= orig.amount * COMPLETION_PERCENT else "61"
        if req.get(37) != orig.rrn or (odate and odate != orig.date) or orig.voided_by:
            return "25"
        return orig if amount <= orig.amount - orig.refunded else "61"

    def _book(self, req: Message, kind: str, batch: str, pan: str, rrn: str, auth: str, orig: Txn | None) -> None:
        tid, trace = req.get(41, ""), req.get(11, "")
        txn = Txn(tid, batch, trace, kind, int(req.get(4, "0")), pan, rrn, auth, self._settlement_day(), "00",
                  merchant=req.get(42, ""))
        key = (tid, batch, trace)
        txn.reversed = key in self.reversed
        if orig is not None:
            txn.original = (orig.terminal, orig.batch, orig.trace)
            if not txn.reversed:
                self._apply(txn, orig, +1)
        self.txns[key] = txn

    def _apply(self, txn: Txn, orig: Txn, sign: int) -> None:
        """What a void, completion or refund does to its original; sign -1 takes it back (its
        reversal). A completion completes its hold; its void opens the hold again."""
        if txn.kind in VOIDS:
            orig.voided_by = txn.trace if sign > 0 else None
        elif txn.kind == REFUND:
            orig.refunded += sign * txn.amount
        elif txn.kind == COMPLETION:
            orig.completed_by = txn.trace if sign > 0 else None
        if txn.kind == COMPLETION_VOID and orig.original:
            hold = self.txns.get(orig.original)
            if hold is not None:
                hold.completed_by = None if sign > 0 else orig.trace

    def _reversal(self, req: Message, mti: str) -> Answer:
        tid = req.get(41, "")
        batch = split60(req.get(60, ""))[1]
        key = (tid, batch, req.get(11, ""))
        txn = self.txns.get(key)
        if txn is None:
            self.reversed.add(key)
        elif not txn.reversed:
            txn.reversed = True
            orig = self.txns.get(txn.original) if txn.original else None
            if orig is not None:
                self._apply(txn, orig, -1)
        # Always 0410 with 00: a reversal is acknowledged however often it comes.
        return Answer(mti, {**self._echo(req, 3, 4, 11, 25, 49, 60, 61), **self._now(), "39": "00"})

    # -- settlement and batch upload

    def totals(self, tid: str, batch: str) -> Totals:
        counted = self._counted(tid, batch)
        debit = [t for t in counted if t.kind in DEBITS]
        credit = [t for t in counted if t.kind == REFUND]
        return Totals(sum(t.amount for t in debit), len(debit), sum(t.amount for t in credit), len(credit))

    def _counted(self, tid: str, batch: str) -> list[Txn]:
        """What the batch's totals count: debits not voided (less their voids) and refunds, none reversed."""
        return [
            t
            for t in self.txns.values()
            if t.terminal == tid and t.batch == batch and not t.reversed
            and ((t.kind in DEBITS and not t.voided_by) or t.kind == REFUND)
        ]

    def _settlement(self, req: Message, mti: str) -> Answer:
        tid = req.get(41, "")
        batch = split60(req.get(60, ""))[1]
        theirs, _ = split48_totals(req.get(48, ""))
        ours = self.totals(tid, batch)
        flag = SETTLEMENT_BALANCED if theirs == ours else SETTLEMENT_UNBALANCED
        self.uploads[(tid, batch)] = []
        fields = {**self._echo(req, 11, 49, 60), **self._now(), "39": "00", "48": field48_totals(theirs, flag)}
        return Answer(mti, fields, note={"ours": dataclasses.asdict(ours), "balanced": flag == SETTLEMENT_BALANCED})

    def _upload(self, req: Message, mti: str) -> Answer:
        tid = req.get(41, "")
        _, batch, network = split60(req.get(60, ""))
        seen = self.uploads.setdefault((tid, batch), [])
        records = split48_upload(req.get(48, "00")) if req.get(48) else []
        unknown = []
        for r in records:
            txn = self.txns.get((tid, batch, r.trace))
            if txn is None or txn.amount != r.amount or txn.reversed:
                unknown.append(r.trace)
            seen.append(r.trace)
        note = {"records": len(records), "unknown": unknown}
        if network == "202":
            counted = {t.trace for t in self._counted(tid, batch)}
            note["not_uploaded"] = sorted(counted - set(seen))
        return Answer(mti, {**self._echo(req, 11, 60), **self._now(), "39": "00"}, note=note)
