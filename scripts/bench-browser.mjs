// Browser benchmarks of the shipped module, printed as Markdown on stdout (scripts/bench.sh puts
// them into BENCHMARKS.md): shipped size beside two checkout drop-ins, cold start, the time a
// sale adds inside the terminal at batch sizes 10 / 1 000 / 20 000, sale round trips, and the
// settlement of a 10 000-entry batch, balanced and unbalanced. Everything runs against a real
// softpos-host on 127.0.0.1 (a fresh SQLite file) in Debian's headless Chromium.
//
//   node scripts/bench-browser.mjs [--host target/host/softpos-host] [--loads 20] [--fill 20000]
//                                  [--settle 10000] [--only size,start,fill,settle]
//
// A benchmark program: any failure throws, nothing here asserts on time.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync, brotliCompressSync, constants as zc } from "node:zlib";
import { MERCHANT, hostCli, launchChromium as launch, provision, spawnHost, terminalKey } from "./lib/host.mjs";

const root = new URL("..", import.meta.url).pathname;
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const HOST_BIN = arg("--host", join(root, "target/host/softpos-host"));
const LOADS = Number(arg("--loads", 20));
const FILL = Number(arg("--fill", 20000));
const SETTLE = Number(arg("--settle", 10000));
// The sections to run (all unless named): size, start, fill (per-sale and round-trip), settle.
const ONLY = arg("--only", "size,start,fill,settle").split(",");
const run = (name) => ONLY.includes(name);
const PASSWORD = "bench-pw-01";
const log = (...a) => console.error(new Date().toISOString().slice(11, 19), ...a);

// ---------------------------------------------------------------------------------------------
// Shipped size: the same compressors on every bundle, in the same run.

function sizes(files) {
  const buf = Buffer.concat(files.map((f) => readFileSync(f)));
  // Each file is compressed on its own (that is how a server sends them), then summed.
  let gz = 0;
  let br = 0;
  for (const f of files) {
    const b = readFileSync(f);
    gz += gzipSync(b, { level: 9 }).length;
    br += brotliCompressSync(b, { params: { [zc.BROTLI_PARAM_QUALITY]: 11 } }).length;
  }
  return { raw: buf.length, gz, br };
}

function sizeTable() {
  const nm = join(root, "node_modules");
  const tmp = mkdtempSync(join(tmpdir(), "softpos-bench-size-"));
  // Braintree ships its drop-in unminified for browsers; minify it the way a storefront would.
  const bt = join(tmp, "dropin.min.js");
  execFileSync(join(nm, ".bin/esbuild"), [join(nm, "braintree-web-drop-in/dist/browser/dropin.js"),
    "--minify", `--outfile=${bt}`, "--log-level=warning"]);
  const ver = (p) => JSON.parse(readFileSync(join(nm, p, "package.json"))).version;
  const rows = [
    ["softpos wasm (`pkg/softpos_bg.wasm`)", [join(root, "pkg/softpos_bg.wasm")]],
    ["softpos JS glue (`pkg/softpos.js`)", [join(root, "pkg/softpos.js")]],
    ["softpos widget CSS + element (`www/softpos.css`, `www/softpos-terminal.js`)",
      [join(root, "www/softpos.css"), join(root, "www/softpos-terminal.js")]],
    ["**softpos, all shipped**", [join(root, "pkg/softpos_bg.wasm"), join(root, "pkg/softpos.js"),
      join(root, "www/softpos.css"), join(root, "www/softpos-terminal.js")]],
    ["softpos without the widget (`make pkg-headless`: wasm + JS glue)",
      [join(root, "pkg-headless/softpos_bg.wasm"), join(root, "pkg-headless/softpos.js")]],
    [`@adyen/adyen-web ${ver("@adyen/adyen-web")} (\`dist/cjs/index.cjs\` + \`adyen.css\`)`,
      [join(nm, "@adyen/adyen-web/dist/cjs/index.cjs"), join(nm, "@adyen/adyen-web/dist/cjs/adyen.css")]],
    [`braintree-web-drop-in ${ver("braintree-web-drop-in")} (\`dist/browser/dropin.js\`, esbuild --minify)`, [bt]],
  ];
  const out = [];
  const ours = sizes(rows[3][1]);
  out.push("| bundle | raw bytes | gzip -9 bytes | brotli q11 bytes | gzip ÷ softpos |");
  out.push("|---|---:|---:|---:|---:|");
  for (const [name, files] of rows) {
    const s = sizes(files);
    out.push(`| ${name} | ${s.raw} | ${s.gz} | ${s.br} | ${(s.gz / ours.gz).toFixed(2)} |`);
  }
  rmSync(tmp, { recursive: true, force: true });
  return out.join("\n");
}

// ---------------------------------------------------------------------------------------------
// The host: provisioned through its own command line, served on a free loopback port.

async function startHost(terminals) {
  const dir = mkdtempSync(join(tmpdir(), "softpos-bench-"));
  const db = `sqlite://${dir}/host.db`;
  const codes = provision(HOST_BIN, db, terminals);
  hostCli(HOST_BIN, db, ["operator", "add", "--merchant", MERCHANT, "--operator", "01"], `${PASSWORD}\n`);
  // The benchmark page: the module and the widget, nothing else.
  const www = join(dir, "www");
  execFileSync("mkdir", ["-p", www]);
  writeFileSync(join(www, "bench.html"),
    '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>softpos bench</title><div id="w"></div>\n');
  const host = await spawnHost(HOST_BIN, ["serve", "--db", db, "--www", www, "--pkg", join(root, "pkg")],
    { ...process.env, RUST_LOG: process.env.SOFTPOS_BENCH_RUST_LOG ?? "warn" });
  return {
    url: host.url,
    codes,
    async stop() {
      await host.stop();
      // With SOFTPOS_BENCH_RUST_LOG set, the host's lines about settlements go to stderr.
      if (process.env.SOFTPOS_BENCH_RUST_LOG) {
        for (const l of host.logs().split("\n")) if (/settlements|TIMING/.test(l)) log(l);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Statistics.

const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
};
const ms = (x) => (x >= 10 ? x.toFixed(1) : x.toFixed(2));

// ---------------------------------------------------------------------------------------------
// Start: fetch + compile + instantiate + mountWidget, cold, in a new context each time.

async function coldStarts(browser, host) {
  const runs = [];
  for (let i = 0; i < LOADS; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    await page.goto(`${host.url}/bench.html`);
    runs.push(await page.evaluate(async (tid) => {
      const t0 = performance.now();
      const m = await import(`/pkg/softpos.js?cold=${Math.random()}`); // fetch + parse the glue
      const t1 = performance.now();
      await m.default(); // fetch + compile + instantiate the wasm (instantiateStreaming)
      const t2 = performance.now();
      const terminal = await m.Terminal.open({ hostUrl: location.origin, merchantId: "898310048160001",
        terminalId: tid, storage: "memory" });
      const t3 = performance.now();
      m.mountWidget(document.getElementById("w"), terminal, { locale: "en" });
      await new Promise((r) => requestAnimationFrame(() => r()));
      const t4 = performance.now();
      return { glue: t1 - t0, wasm: t2 - t1, open: t3 - t2, mount: t4 - t3, total: t4 - t0 };
    }, "29999999"));
    await context.close();
  }
  const row = (name, k) => `| ${name} | ${ms(q(runs.map((r) => r[k]), 0.5))} | ${ms(q(runs.map((r) => r[k]), 0.9))} |`;
  return [
    `| step (${LOADS} cold loads, new context each, HTTP cache disabled) | median ms | p90 ms |`,
    "|---|---:|---:|",
    row("fetch + evaluate `softpos.js`", "glue"),
    row("`init()`: fetch + compile + instantiate the wasm", "wasm"),
    row("`Terminal.open` (memory storage)", "open"),
    row("`mountWidget` + first frame", "mount"),
    row("**total**", "total"),
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------
// Sales through the real terminal (IndexedDB storage) and the real host.

async function openTerminal(browser, host, tid) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("pageerror", (e) => log("page error", String(e)));
  await page.goto(`${host.url}/bench.html`);
  await page.evaluate(async ([tid, code, password]) => {
    const m = await import("/pkg/softpos.js");
    await m.default();
    const t = await m.Terminal.open({ hostUrl: location.origin, merchantId: "898310048160001", terminalId: tid });
    await t.activate(code);
    await t.signIn("01", password);
    window.t = t;
    // The page watches the terminal from outside: every fetch from the call to its body read,
    // and every IndexedDB transaction from its creation to \`complete\`.
    window.spans = { net: [], idb: [] };
    const fetch0 = window.fetch;
    window.fetch = function (...args) {
      const span = [performance.now(), NaN];
      window.spans.net.push(span);
      return fetch0.apply(this, args).then((r) => {
        const text0 = r.text.bind(r);
        r.text = () => text0().then((body) => ((span[1] = performance.now()), body));
        return r;
      });
    };
    const transaction0 = IDBDatabase.prototype.transaction;
    IDBDatabase.prototype.transaction = function (...args) {
      const t0 = performance.now();
      const tx = transaction0.apply(this, args);
      tx.addEventListener("complete", () => window.spans.idb.push(performance.now() - t0));
      return tx;
    };
  }, [tid, host.codes[tid], PASSWORD]);
  return { context, page };
}

/** Sells `n` sales one after the other. For each: the whole call (JS call to resolved promise),
 * the terminal's own work (the whole call less each request's span from \`fetch()\` to its body
 * read: the core, JS↔wasm, and the IndexedDB write-ahead before the request and the write of
 * the answer after it), and of that the IndexedDB transactions (creation to \`complete\`). */
async function sell(page, n) {
  const all = { total: [], own: [], idb: [] };
  for (let done = 0; done < n;) {
    const chunk = Math.min(1000, n - done);
    const r = await page.evaluate(async (chunk) => {
      const out = { total: [], own: [], idb: [] };
      const sum = (xs) => xs.reduce((a, b) => a + b, 0);
      for (let i = 0; i < chunk; i++) {
        window.spans = { net: [], idb: [] };
        const t0 = performance.now();
        const res = await window.t.sale({ amount: 100 + (i % 900), card: { pan: "4111111111111111", expiry: "12/30" } });
        const t1 = performance.now();
        if (res.status !== "approved") throw new Error(`sale ${res.status} ${res.responseCode}`);
        out.total.push(t1 - t0);
        out.own.push(t1 - t0 - sum(window.spans.net.map(([a, b]) => b - a)));
        out.idb.push(sum(window.spans.idb));
      }
      return out;
    }, chunk);
    for (const k of Object.keys(all)) all[k].push(...r[k]);
    done += chunk;
    if (done % 5000 === 0 || done === n) log(`  ${done}/${n} sales`);
  }
  return all;
}

/** The browser's own floor in the same page: one readwrite transaction putting a state record
 * and a journal-sized entry into a scratch database, as the terminal does twice per sale. */
async function idbFloor(page) {
  return page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const o = indexedDB.open("softpos-bench-floor", 1);
      o.onupgradeneeded = () => ["meta", "journal"].forEach((n) => o.result.createObjectStore(n));
      o.onsuccess = () => resolve(o.result);
      o.onerror = () => reject(o.error);
    });
    const times = [];
    for (let i = 0; i < 500; i++) {
      const t0 = performance.now();
      const tx = db.transaction(["meta", "journal"], "readwrite");
      tx.objectStore("meta").put({ batch_no: 1, next_trace_no: i, operator: "01", reversals: [] }, "m");
      tx.objectStore("journal").put({ seq: i, request_id: crypto.randomUUID(), hash: "0".repeat(64) }, `e${i}`);
      await new Promise((resolve) => (tx.oncomplete = resolve));
      times.push(performance.now() - t0);
    }
    db.close();
    return times;
  });
}

async function fillAndMeasure(browser, host) {
  const { context, page } = await openTerminal(browser, host, "20000001");
  const floor = await idbFloor(page);
  const s = await sell(page, FILL);
  await context.close();
  // A window of sales at each batch size: the first 10, the 50 up to 1 000, the 50 up to
  // 20 000 (the last the batch accepts, R11).
  const rows = [];
  const row = (label, lo, hi) => {
    const part = (k) => s[k].slice(lo, hi);
    return `| ${label} | ${lo + 1}..${hi} | ${ms(q(part("own"), 0.5))} | ${ms(q(part("idb"), 0.5))} | ${ms(q(part("own"), 0.9))} | ${ms(q(part("total"), 0.5))} |`;
  };
  for (const size of [10, 1000, FILL].filter((n, i, a) => n <= FILL && a.indexOf(n) === i)) {
    rows.push(row(size, Math.max(0, size - (size === 10 ? 10 : 50)), size));
  }
  return {
    perSale: [
      "| batch size | sales measured | own work median ms | of which IndexedDB median ms | own work p90 ms | whole sale median ms |",
      "|---:|---|---:|---:|---:|---:|",
      ...rows,
      row(`all ${FILL}`, 0, FILL),
      "",
      `The browser's floor, measured in the same page: one bare IndexedDB readwrite transaction with two small puts, median ${ms(q(floor, 0.5))} ms, p90 ${ms(q(floor, 0.9))} ms (500 transactions). A sale needs two (R18: the write-ahead before the request, the answer before the promise resolves).`,
    ].join("\n"),
    roundTrip: [
      "| sales | p50 ms | p90 ms | p99 ms | max ms | sales/s (one terminal, sequential) |",
      "|---:|---:|---:|---:|---:|---:|",
      `| ${FILL} | ${ms(q(s.total, 0.5))} | ${ms(q(s.total, 0.9))} | ${ms(q(s.total, 0.99))} | ${ms(Math.max(...s.total))} | ${(1000 * FILL / s.total.reduce((a, b) => a + b, 0)).toFixed(0)} |`,
    ].join("\n"),
  };
}

async function post(url, token, path, body) {
  const r = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const j = await r.json();
  if (!r.ok) throw new Error(`${path}: ${JSON.stringify(j)}`);
  return j;
}

/** Two terminals fill a batch each at the same time (only the settlement is timed here). */
async function settleRuns(browser, host) {
  const [bal, unb] = await Promise.all(["20000002", "20000003"].map(async (tid) => {
    const t = await openTerminal(browser, host, tid);
    await sell(t.page, SETTLE);
    return t;
  }));
  // One sale the terminal never saw, booked on the host by a second sign-in of the same
  // terminal: the host's totals then differ and the settlement needs the batch upload.
  const key = await terminalKey(unb.page, "20000003");
  const { session_token } = await post(host.url, key, "/v1/sign-in", { operator: "01", password: PASSWORD });
  await post(host.url, session_token, "/v1/transactions", {
    request_id: crypto.randomUUID(), kind: "sale", trace_no: 999000, amount: 4242, currency: "CNY",
    card: { pan: "4111111111111111", expiry: "12/30" },
  });
  // That sign-in ended the page's session: sign in again, as the operator would.
  await unb.page.evaluate((pw) => window.t.signIn("01", pw), PASSWORD);
  const rows = [];
  for (const { context, page } of [bal, unb]) {
    const r = await page.evaluate(async () => {
      // The sales filled the resource-timing buffer; the settlement's requests get one fresh.
      performance.clearResourceTimings();
      const t0 = performance.now();
      const s = await window.t.settle();
      const ms = performance.now() - t0;
      const calls = performance.getEntriesByType("resource")
        .filter((e) => e.name.includes("/v1/settlements") && e.startTime >= t0)
        .map((e) => `${new URL(e.name).pathname} @${(e.startTime - t0).toFixed(0)} ${(e.responseEnd - e.startTime).toFixed(1)} ms`);
      return { ms, outcome: s.outcome, discrepancies: s.discrepancies.length, calls };
    });
    log(`settle ${r.outcome}: ${r.ms.toFixed(1)} ms; requests: ${r.calls.join(", ")}`);
    await context.close();
    rows.push(`| ${SETTLE} | ${r.outcome} | ${r.discrepancies} | ${ms(r.ms)} |`);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------

const started = Date.now();
const sections = [];
if (run("size")) {
  log("sizes");
  sections.push(["size", sizeTable()]);
}
const host = await startHost(["20000001", "20000002", "20000003", "29999999"]);
const browser = await launch();
try {
  if (run("start")) {
    log(`${LOADS} cold starts`);
    sections.push(["start", await coldStarts(browser, host)]);
  }
  if (run("fill")) {
    log(`filling a batch of ${FILL}`);
    const fill = await fillAndMeasure(browser, host);
    sections.push(["per-sale", fill.perSale]);
    sections.push(["round-trip", fill.roundTrip]);
  }
  if (run("settle")) {
    log(`settling ${SETTLE}-entry batches`);
    sections.push(["settle", [
      "| entries | outcome | discrepancies | `settle()` ms, JS call to resolved promise |",
      "|---:|---|---:|---:|",
      ...(await settleRuns(browser, host)),
    ].join("\n")]);
  }
} finally {
  await browser.close();
  await host.stop();
}
for (const [name, body] of sections) console.log(`<!-- ${name} -->\n${body}\n`);
log(`browser benchmarks took ${((Date.now() - started) / 1000).toFixed(0)} s`);
