#!/usr/bin/env python3
"""Terminals on demand for the browser tests (tests/web.rs, tests/faults.rs).

Each `POST /terminals` makes a terminal the run has not used, through the host's own admin CLI
(`softpos-host terminal add`, the way an acquirer provisions one), and answers
`{"terminalId", "code"}` with CORS for the test page. Ids come from a counter, so every test
gets a fresh one however many there are. A test helper of scripts/test-wasm.sh, not part of
the product: the host needs no provisioning endpoint for its tests. Serves one request at a
time on a loopback port it prints as `listening on 127.0.0.1:PORT`.

Usage: provisioner.py HOST_BIN DB_URL MERCHANT ALLOWED_ORIGIN
"""

import http.server
import json
import subprocess
import sys

HOST_BIN, DB, MERCHANT, ORIGIN = sys.argv[1:5]
made = 0


class Provision(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global made
        if self.path != "/terminals":
            self.answer(404, {"error": "POST /terminals"})
            return
        made += 1
        terminal = f"2{made:07d}"
        run = subprocess.run(
            [HOST_BIN, "terminal", "add", "--merchant", MERCHANT, "--terminal", terminal,
             "--currency", "CNY", "--db", DB],
            capture_output=True, text=True, check=False,
        )
        lines = run.stdout.strip().splitlines()
        if run.returncode != 0 or not lines:
            self.answer(500, {"error": run.stderr.strip()[-500:]})
            return
        # `terminal add` prints the activation code on its last line.
        self.answer(200, {"terminalId": terminal, "code": lines[-1]})

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Access-Control-Allow-Origin", ORIGIN)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Provision)
print(f"listening on 127.0.0.1:{server.server_port}", flush=True)
server.serve_forever()
