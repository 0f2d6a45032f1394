// The counter on a plain-http LAN page, which is not a secure context: no crypto.randomUUID,
// no navigator.locks (docs/browser.md). Chromium resolves pos.test to 127.0.0.1, so the demo
// host's pages are opened at http://pos.test:PORT (TOOLCHAIN.md, "A page that is not a
// secure context"), and the host allows that origin.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import {
  tid, startHost, launch, openPage, shot, keypad, CARD, EXPIRY, MERCHANT,
} from "./lib.mjs";

let host;
let browser;
let origin;

/** A free loopback port, for a host that must know its page's origin before it listens. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

before(async () => {
  const port = await freePort();
  origin = `http://pos.test:${port}`;
  host = await startHost(["10000021", "10000022", "10000023"], { port, allowOrigin: [origin] });
  browser = await launch(["--host-resolver-rules=MAP pos.test 127.0.0.1"]);
});

after(async () => {
  await browser?.close();
  await host?.stop();
});


/** Opens the origin's IndexedDB database as a terminal makes it (version 1, two stores). */
const OPEN_DB = `new Promise((res, rej) => {
  const o = indexedDB.open("softpos", 1);
  o.onupgradeneeded = () => {
    for (const name of ["meta", "journal"]) {
      if (!o.result.objectStoreNames.contains(name)) o.result.createObjectStore(name);
    }
  };
  o.onsuccess = () => res(o.result);
  o.onerror = () => rej(o.error);
})`;

/** A page's record of the one-tab guard's lease, as another tab would have left it. */
async function putLease(page, terminal, lease) {
  await page.evaluate(async ([openDb, key, lease]) => {
    const db = await eval(openDb);
    await new Promise((res, rej) => {
      const tx = db.transaction("meta", "readwrite");
      tx.objectStore("meta").put(lease, key);
      tx.oncomplete = res;
      tx.onerror = () => rej(tx.error);
    });
    db.close();
  }, [OPEN_DB, `lease:${MERCHANT}/${terminal}/${lease.page}`, lease]);
}

/** Every page's record of the one-tab guard's lease of a terminal. */
function leasesOf(page, terminal) {
  return page.evaluate(async ([openDb, prefix]) => {
    const db = await eval(openDb);
    const leases = await new Promise((res) => {
      const range = IDBKeyRange.bound(prefix, `${prefix}~`);
      const r = db.transaction("meta").objectStore("meta").getAll(range);
      r.onsuccess = () => res(r.result);
    });
    db.close();
    return leases;
  }, [OPEN_DB, `lease:${MERCHANT}/${terminal}/`]);
}

test("a counter on a plain-http LAN page sells, and a second tab gets BUSY", async () => {
  const context = await browser.newContext({ locale: "en" });
  const url = `${origin}/pos.html?locale=en&terminal=10000021`;
  const page = await openPage(context, url);
  assert.deepEqual(
    await page.evaluate(() => [isSecureContext, typeof crypto.randomUUID, typeof navigator.locks]),
    [false, "undefined", "undefined"],
    "the page is not a secure context",
  );
  await tid(page, "activation-code").fill(host.codes["10000021"]);
  await tid(page, "activate").click();
  await tid(page, "operator").fill("01");
  await tid(page, "password").fill(host.operatorPassword);
  await tid(page, "sign-in").click();
  await tid(page, "charge").waitFor();
  await keypad(page, 1250);
  await tid(page, "pan").fill(CARD);
  await tid(page, "expiry").fill(EXPIRY);
  await tid(page, "charge").click();
  await tid(page, "result").waitFor();
  assert.equal(await tid(page, "result").getAttribute("data-status"), "approved");
  await shot(page, "non-secure-01-sale");

  // Request ids from crypto.getRandomValues, shaped as UUID v4.
  const journal = await page.evaluate(() => document.querySelector("softpos-terminal").terminal.journal());
  assert.equal(journal.length, 1);
  assert.match(journal[0].requestId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  // The slip's time is the host's wall clock (the demo host runs Asia/Shanghai, UTC+8).
  const shanghai = new Date(Date.parse(journal[0].at) + 8 * 3600e3).toISOString();
  assert.equal(await tid(page, "at").textContent(), `${shanghai.slice(0, 10)} ${shanghai.slice(11, 19)}`);

  // A second tab on the same terminal is refused, as with Web Locks.
  const second = await openPage(context, url);
  await tid(second, "open-error").waitFor();
  assert.ok((await tid(second, "open-error").textContent()).includes("This terminal is open in another tab or window"));
  await second.close();
  // The first tab goes on; a reload of it gets the terminal back at once, still signed in (R14).
  await page.reload();
  await tid(page, "charge").waitFor();
  assert.equal(await tid(page, "open-error").count(), 0);
  // Closed, it frees the terminal for another tab at once: the closed page no longer answers
  // for its lease, given up or not.
  await page.close();
  const third = await openPage(context, url);
  await tid(third, "operator").waitFor();
  assert.equal(await tid(third, "open-error").count(), 0);
  assert.deepEqual(third.errors, []);
  await context.close();
});

test("without Web Locks, a lease left by a crashed tab does not keep the terminal", async () => {
  const context = await browser.newContext({ locale: "en" });
  const url = `${origin}/pos.html?locale=en&terminal=10000022`;
  const page = await openPage(context, `${origin}/index.html`);
  // Two tabs that crashed: one a while ago (its lease ran out), one just now (its lease runs
  // for another minute, but no page answers for it).
  await putLease(page, "10000022", { tab: "t1", page: "crashed-long-ago", until: Date.now() - 1000 });
  await putLease(page, "10000022", { tab: "t2", page: "crashed-just-now", until: Date.now() + 60000 });
  await page.goto(url);
  await tid(page, "activation-code").waitFor();
  assert.equal(await tid(page, "open-error").count(), 0);
  const leases = await leasesOf(page, "10000022");
  assert.deepEqual(leases.map((l) => l.page).filter((p) => p.startsWith("crashed")), [], "taken over");
  assert.equal(leases.length, 1, "this page's own");
  await context.close();
});

test("the terminal runs in a worker too (timers, fetch, crypto, IndexedDB from the worker's scope)", async () => {
  // The worker's script is the test's own, made as a blob: URL, which the host's pages' CSP
  // (`script-src 'self'`) rightly refuses; a storefront ships its worker as a file instead.
  const context = await browser.newContext({ locale: "en", bypassCSP: true });
  const page = await openPage(context, `${origin}/index.html`);
  const result = await page.evaluate(async ([origin, code, password, card, expiry]) => {
    const src = `
      import init, { Terminal } from "${origin}/pkg/softpos.js";
      onmessage = async ({ data }) => {
        try {
          await init();
          const t = await Terminal.open({ hostUrl: "${origin}", merchantId: "898310048160001",
            terminalId: "10000023", timeoutMs: 5000 });
          await t.activate(data.code);
          await t.signIn("01", data.password);
          const sale = await t.sale({ amount: 4200, card: { pan: data.card, expiry: data.expiry } });
          postMessage({ status: sale.status, requestId: t.journal()[0].requestId, window: typeof window });
        } catch (e) {
          postMessage({ error: String(e), code: e.code });
        }
      };`;
    const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
    const worker = new Worker(url, { type: "module" });
    const answer = new Promise((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      // A worker that cannot start says so here rather than leaving the test waiting.
      worker.onerror = (e) => resolve({ error: `the worker did not start: ${e.message ?? "?"}` });
    });
    worker.postMessage({ code, password, card, expiry });
    return answer;
  }, [origin, host.codes["10000023"], host.operatorPassword, CARD, EXPIRY]);
  assert.equal(result.window, "undefined", JSON.stringify(result));
  assert.equal(result.status, "approved", JSON.stringify(result));
  assert.match(result.requestId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual(page.errors, []);
  await context.close();
});
