// Shared set-up of the end-to-end tests: a real softpos-host (the `demo` command, on a fresh
// SQLite file and a free loopback port, serving www/ and pkg/) and Debian's Chromium driven
// by playwright-core. Screenshots go to target/e2e/.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const root = new URL("../..", import.meta.url).pathname;
export const HOST_BIN = process.env.SOFTPOS_HOST_BIN ?? join(root, "target/debug/softpos-host");
export const SHOTS = join(root, "target/e2e");
export const MERCHANT = "898310048160001";
export const CARD = "4111111111111111";
export const DECLINED_CARD = "4000000000000002";
export const EXPIRY = "12/30";

/** Starts the demo host with extra terminals; resolves with its URL, codes and passwords. */
export async function startHost(extraTerminals = []) {
  const dir = mkdtempSync(join(tmpdir(), "softpos-e2e-"));
  const db = `sqlite://${dir}/host.db`;
  const codes = {};
  for (const tid of extraTerminals) {
    const out = execFileSync(HOST_BIN, ["terminal", "add", "--merchant", MERCHANT, "--terminal", tid, "--db", db]);
    codes[tid] = out.toString().trim().split("\n").pop().trim();
  }
  const child = spawn(HOST_BIN, ["demo", "--db", db, "--listen", "127.0.0.1:0", "--www", join(root, "www")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the host did not start:\n${out}\n${err}`)), 20000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/^listening on (http:\/\/\S+)$/m);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`the host exited (${code}):\n${out}\n${err}`)));
  });
  const field = (re) => out.match(re)?.[1];
  codes["10000001"] = field(/^activation code:\s+(\S+)$/m);
  codes["10000002"] = field(/checkout page:\s+terminal 10000002, activation code (\S+)$/m);
  return {
    url,
    codes,
    operatorPassword: field(/operator 01:\s+password (\S+)/),
    supervisorPassword: field(/supervisor 00:\s+password (\S+)/),
    logs: () => out + err,
    async stop() {
      // Stopped by its own handle (its PID), never by name.
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.on("exit", r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launch() {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/** A page that records console errors and uncaught exceptions. */
export async function openPage(context, url) {
  const page = await context.newPage();
  page.errors = [];
  page.on("console", (m) => m.type() === "error" && page.errors.push(m.text()));
  page.on("pageerror", (e) => page.errors.push(String(e)));
  await page.goto(url);
  return page;
}

export async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Types an amount in minor units on the keypad. */
export async function keypad(page, minorUnits) {
  for (const digit of String(minorUnits)) {
    await page.click(`.sp-keypad [data-arg="${digit}"]`);
  }
}

/** The terminal's stored key, read from the page's IndexedDB (what a second device would copy). */
export async function terminalKey(page, terminalId) {
  return page.evaluate(async ([merchant, tid]) => {
    const db = await new Promise((res, rej) => {
      const o = indexedDB.open("softpos");
      o.onsuccess = () => res(o.result);
      o.onerror = () => rej(o.error);
    });
    const meta = await new Promise((res) => {
      const g = db.transaction("meta").objectStore("meta").get(`${merchant}/${tid}`);
      g.onsuccess = () => res(g.result);
    });
    db.close();
    return meta.terminal_key;
  }, [MERCHANT, terminalId]);
}

/** The host's totals of the terminal's open batch (GET /v1/batches/current). */
export async function hostTotals(url, key, operator, password) {
  const signIn = await fetch(`${url}/v1/sign-in`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ operator, password }),
  });
  const { session_token } = await signIn.json();
  const r = await fetch(`${url}/v1/batches/current`, { headers: { authorization: `Bearer ${session_token}` } });
  return (await r.json()).host_totals;
}
