// Where a sale's time goes in the browser: Chromium's sampling profiler (DevTools protocol)
// over sales of one terminal (IndexedDB storage) against a real softpos-host, summed by
// function, self time per sale; then who calls the browser's own costly calls (IndexedDB,
// sessionStorage, string decoding, fetch's Request). Wasm functions are named when the module
// keeps its names:
//
//   wasm-bindgen --target web --keep-debug --out-dir target/named \
//       target/wasm32-unknown-unknown/release/softpos.wasm     # after `make pkg`
//   node scripts/profile-browser.mjs target/named 600
//
// The first argument is the folder served as /pkg (default pkg/, names stripped), the second
// the sales profiled (after 200 unprofiled). With a third, `settle`, what is profiled is
// instead the unbalanced settlement of a batch of that many sales (one sale booked on the host
// behind the terminal's back, so the journal is uploaded), per settlement. Prints numbers;
// asserts nothing.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync as ex } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MERCHANT, hostCli, launchChromium, provision, spawnHost, terminalKey } from "./lib/host.mjs";
const root = new URL("..", import.meta.url).pathname;
const HOST_BIN = process.env.SOFTPOS_HOST_BIN ?? join(root, "target/host/softpos-host");
const PKG = process.argv[2] ?? join(root, "pkg");
const N = Number(process.argv[3] ?? 600);
const SETTLE = process.argv[4] === "settle";
const dir = mkdtempSync(join(tmpdir(), "softpos-prof-"));
const db = `sqlite://${dir}/host.db`;
const codes = provision(HOST_BIN, db, ["20000001"]);
hostCli(HOST_BIN, db, ["operator", "add", "--merchant", MERCHANT, "--operator", "01"], "bench-pw-01\n");
const www = join(dir, "www"); ex("mkdir", ["-p", www]);
writeFileSync(join(www, "bench.html"), '<!doctype html><meta charset="utf-8"><title>p</title><div id="w"></div>\n');
const host = await spawnHost(HOST_BIN, ["serve", "--db", db, "--www", www, "--pkg", PKG], { ...process.env, RUST_LOG: "warn" });
const browser = await launchChromium();
const context = await browser.newContext();
const page = await context.newPage();
await page.goto(`${host.url}/bench.html`);
await page.evaluate(async ([tid, code]) => {
  const m = await import("/pkg/softpos.js"); await m.default();
  const t = await m.Terminal.open({ hostUrl: location.origin, merchantId: "898310048160001", terminalId: tid });
  await t.activate(code); await t.signIn("01", "bench-pw-01"); window.t = t;
}, ["20000001", codes["20000001"]]);
const sell = (n) => page.evaluate(async (n) => {
  for (let i = 0; i < n; i++) {
    const r = await window.t.sale({ amount: 100 + (i % 900), card: { pan: "4111111111111111", expiry: "12/30" } });
    if (r.status !== "approved") throw new Error("x");
  }
}, n);
await sell(200);
if (SETTLE) {
  await sell(N);
  // A sale the terminal never saw: the totals differ, so the settlement uploads the journal.
  const post = async (token, path, body) => {
    const r = await fetch(`${host.url}${path}`, { method: "POST", body: JSON.stringify(body),
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` } });
    if (!r.ok) throw new Error(`${path}: ${await r.text()}`);
    return r.json();
  };
  const key = await terminalKey(page, "20000001");
  const { session_token } = await post(key, "/v1/sign-in", { operator: "01", password: "bench-pw-01" });
  await post(session_token, "/v1/transactions", { request_id: crypto.randomUUID(), kind: "sale",
    trace_no: 999000, amount: 4242, currency: "CNY", card: { pan: "4111111111111111", expiry: "12/30" } });
  await page.evaluate(() => window.t.signIn("01", "bench-pw-01"));
}
const cdp = await context.newCDPSession(page);
await cdp.send("Profiler.enable");
await cdp.send("Profiler.setSamplingInterval", { interval: 50 });
await cdp.send("Profiler.start");
const t0 = Date.now();
if (SETTLE) {
  const s = await page.evaluate(() => window.t.settle());
  if (s.outcome !== "unbalanced") throw new Error(`settled ${s.outcome}`);
} else {
  await sell(N);
}
const wall = Date.now() - t0;
// Per sale, or per settlement: one.
const per = SETTLE ? 1 : N;
const { profile } = await cdp.send("Profiler.stop");
const self = new Map();
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const dt = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  const n = byId.get(profile.samples[i]);
  const name = n.callFrame.functionName || `(${n.callFrame.url.split("/").pop()})`;
  self.set(name, (self.get(name) || 0) + (dt[i] || 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const unit = SETTLE ? "settlement" : "sale";
console.log(`wall ${wall} ms for ${SETTLE ? "one settlement of" : ""} ${N} sales = ${(wall / per).toFixed(3)} ms/${unit}; sampled ${(total / 1000).toFixed(0)} ms`);
for (const [k, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 45)) {
  console.log(`${(v / 1000 / per).toFixed(4)} ms/${unit}  ${(100 * v / total).toFixed(1)}%  ${k.slice(0, 110)}`);
}
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n);
for (const want of ["decode", "setItem", "put", "transaction", "Request", "(program)", "getStringFromWasm0"]) {
  const by = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const n = byId.get(profile.samples[i]);
    if ((n.callFrame.functionName || "") !== want && !(want === "(program)" && n.callFrame.functionName === "(program)")) continue;
    let chain = []; let p = parent.get(n.id);
    for (let k = 0; p && k < 3; k++, p = parent.get(p.id)) chain.push(p.callFrame.functionName.slice(0, 60) || "?");
    const key = chain.join(" < ");
    by.set(key, (by.get(key) || 0) + (dt[i] || 0));
  }
  console.log(`== ${want}`);
  for (const [k, v] of [...by.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4)) console.log(`  ${(v / 1000 / per).toFixed(4)} ms/${unit}  ${k}`);
}
await browser.close();
await host.stop();
rmSync(dir, { recursive: true, force: true });
