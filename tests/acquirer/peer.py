"""An acquirer over TCP speaking the profile, for testing softpos-host's ISO 8583 link.

    python peer.py --listen 127.0.0.1:0 [--journal FILE] [--hold-ms N] [--resign TERMINAL]...
                   [--batch NNNNNN] [--settlement-date MMDD] [--keys HEX] [--mac x919 --tmk HEX [--bad-mac-card CARD]...]
                   [--silent MTI]...

Prints `listening on 127.0.0.1:PORT` once ready. Each connection may carry one exchange or many
requests in flight; answers go out as they are ready, so a held answer is overtaken by later
ones on the same connection. See README.md for the scenario cards and the journal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import time

from ledger import Answer, Ledger
from mac import Keys, carries_mac
from profile import (
    SIGN_IN_AGAIN,
    Message,
    ProfileError,
    answer_tpdu,
    decode,
    frame,
    masked_fields,
    processing_requirement,
    with_processing_requirement,
)


class Journal:
    """One JSON line per message in or out; card number masked, expiry and keys hidden."""

    def __init__(self, path: str | None):
        self.file = open(path, "a", encoding="utf-8") if path else None

    def write(self, direction: str, msg: Message | None, **extra) -> None:
        if self.file is None:
            return
        line = {"ts": round(time.time(), 3), "dir": direction}
        if msg is not None:
            line.update(mti=msg.mti, tpdu=msg.tpdu, header=msg.header, fields=masked_fields(msg.fields))
        line.update(extra)
        self.file.write(json.dumps(line, sort_keys=True) + "\n")
        self.file.flush()


class Peer:
    def __init__(self, ledger: Ledger, journal: Journal, hold_ms: int, bad_mac: set[str] | None = None,
                 silent: set[str] | None = None):
        self.ledger = ledger
        self.journal = journal
        self.hold = hold_ms / 1000
        self.bad_mac = set(bad_mac or ())
        self.silent = set(silent or ())

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lock = asyncio.Lock()
        pending: set[asyncio.Task] = set()
        try:
            while True:
                try:
                    # Exactly 2 bytes, then exactly that many: frames split across reads arrive whole.
                    size = int.from_bytes(await reader.readexactly(2), "big")
                    body = await reader.readexactly(size)
                except (asyncio.IncompleteReadError, ConnectionError):
                    break
                try:
                    req = decode(body)
                except (ProfileError, ValueError, KeyError, IndexError) as e:
                    self.journal.write("in", None, error=str(e), hex_len=len(body))
                    break
                task = asyncio.create_task(self.exchange(req, writer, lock))
                pending.add(task)
                task.add_done_callback(pending.discard)
            # The client may have closed only its sending side: answers still in flight go out.
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    async def exchange(self, req: Message, writer: asyncio.StreamWriter, lock: asyncio.Lock) -> None:
        tid = req.get(41, "")
        self.journal.write("in", req, signed_in=self.ledger.terminal(tid).signed_in if tid else None)
        if req.mti in self.silent:
            # An acquirer that takes the request and never answers (nor books it): what a host
            # sees when the far side is down behind a load balancer that still accepts.
            self.journal.write("silent", None, mti=req.mti, trace=req.get(11))
            return
        try:
            ans = self.ledger.answer(req)
            if ans is None:
                return
            msg = self._signed(req, ans, self._message(req, ans))
            data = frame(msg)
        except Exception as e:  # noqa: BLE001 - whatever fails, the client gets an answer, not silence
            # A request the profile allows on the wire but not in its contents (field 48 of the
            # wrong length, say): answered 96, as an acquirer's front-end would.
            self.journal.write("error", req, error=str(e))
            ans = Answer(f"{int(req.mti) + 10:04d}", {**{k: v for k, v in req.fields.items() if k in ("11", "41", "42")}, "39": "96"})
            msg = self._message(req, ans)
            data = frame(msg)
        if ans.delivery == "hold":
            await asyncio.sleep(self.hold)
        async with lock:
            # Journaled before the first byte goes, so a client that has read the answer finds
            # its line; a send that fails adds a line of its own.
            self.journal.write("out", msg, delivery=ans.delivery, **(ans.note or {}))
            try:
                if writer.is_closing():
                    raise ConnectionError("connection already closed")
                await self._send(data, ans.delivery, writer)
            except (ConnectionError, OSError) as e:
                self.journal.write("unsent", None, mti=msg.mti, trace=msg.get(11), error=str(e))

    def _signed(self, req: Message, ans: Answer, msg: Message) -> Message:
        """The answer with its MAC when the request carried one that verified (not on A0); the
        --bad-mac-card's answers with a MAC one bit off."""
        keys = self.ledger.mac
        if keys is None or not carries_mac(req.mti) or ans.fields.get("39") == "A0":
            return msg
        return keys.sign(msg, req.get(41, ""), corrupt=req.get(2) in self.bad_mac)

    @staticmethod
    def _message(req: Message, ans: Answer) -> Message:
        header = req.header
        if ans.sign_in_again:
            header = with_processing_requirement(header, SIGN_IN_AGAIN)
        elif processing_requirement(header) == SIGN_IN_AGAIN:
            header = with_processing_requirement(header, 0)
        return Message(answer_tpdu(req.tpdu), header, ans.mti, ans.fields)

    @staticmethod
    async def _send(data: bytes, delivery: str, writer: asyncio.StreamWriter) -> None:
        if delivery == "drop":
            # Half the frame, then the connection goes: the client must not take it as an answer.
            writer.write(data[: len(data) // 2])
            await writer.drain()
            writer.close()
        elif delivery == "bytewise":
            for i in range(len(data)):
                writer.write(data[i : i + 1])
                await writer.drain()
                await asyncio.sleep(0.002)
        else:
            writer.write(data)
            await writer.drain()


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="An acquirer speaking softpos's ISO 8583 profile.")
    p.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0: a free one)")
    p.add_argument("--journal", help="append every request and answer here, one JSON line each")
    p.add_argument("--hold-ms", type=int, default=15000, help="how long the held card's answer waits")
    p.add_argument("--resign", action="append", default=[], metavar="TERMINAL",
                   help="this terminal's next answer (after its sign-in) asks it to sign in again")
    p.add_argument("--batch", help="the batch number (60.2) every 0810 assigns; default: echo the 0800's")
    p.add_argument("--settlement-date", metavar="MMDD",
                   help="field 15 of every answer, the day a refund's 61.3 must name; default: today")
    p.add_argument("--keys", help="field 62 (hex) of every 0810; default: none (MAC off)")
    p.add_argument("--mac", choices=["none", "x919"], default="none",
                   help="x919: fresh working keys in every 0810's field 62, every other request's MAC "
                        "verified (A0 when wrong), every answer to it MACed")
    p.add_argument("--tmk", help="the terminal master key, 32 hex digits (with --mac x919)")
    p.add_argument("--bad-mac-card", action="append", default=[], metavar="CARD",
                   help="answers to requests with this card carry a wrong MAC (repeatable)")
    p.add_argument("--silent", action="append", default=[], metavar="MTI",
                   help="requests with this MTI are read and journaled, never answered nor booked (repeatable)")
    args = p.parse_args(argv)
    if args.settlement_date is not None and not (len(args.settlement_date) == 4 and args.settlement_date.isdigit()):
        p.error("--settlement-date is MMDD, 4 digits")
    if args.mac == "x919" and (args.tmk is None or len(bytes.fromhex(args.tmk)) != 16):
        p.error("--mac x919 needs --tmk with 32 hex digits")
    return args


async def main(argv: list[str]) -> None:
    args = parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    mac = Keys(bytes.fromhex(args.tmk)) if args.mac == "x919" else None
    ledger = Ledger(keys=args.keys, batch=args.batch, resign=set(args.resign), mac=mac,
                    settlement_date=args.settlement_date)
    peer = Peer(ledger, Journal(args.journal), args.hold_ms, set(args.bad_mac_card), set(args.silent))
    server = await asyncio.start_server(peer.connection, host, int(port))
    addr = server.sockets[0].getsockname()
    print(f"listening on {addr[0]}:{addr[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1:]))
    except KeyboardInterrupt:
        pass
