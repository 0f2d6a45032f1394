// What the Node programs that drive a real softpos-host share (the e2e tests in tests/e2e/ and
// scripts/bench-browser.mjs): provisioning through the host's command line, starting it on a
// free loopback port and stopping it by its own handle, headless Chromium, and reading the
// terminal key a page stored.
import { spawn, execFileSync } from "node:child_process";
import { chromium } from "playwright-core";

export const MERCHANT = "898310048160001";

/** Runs one `softpos-host` command against `db`; returns its stdout. */
export function hostCli(bin, db, args, stdin) {
  return execFileSync(bin, [...args, "--db", db], { input: stdin ?? "" }).toString();
}

/** Adds each terminal to `db`; resolves with their activation codes by terminal id. */
export function provision(bin, db, terminals) {
  const codes = {};
  for (const tid of terminals) {
    codes[tid] = hostCli(bin, db, ["terminal", "add", "--merchant", MERCHANT, "--terminal", tid])
      .trim().split("\n").pop().trim();
  }
  return codes;
}

/** Starts `softpos-host <args> --listen 127.0.0.1:PORT` (a free port unless given) and waits
 * for its address. */
export async function spawnHost(bin, args, env = process.env, port = 0) {
  const child = spawn(bin, [...args, "--listen", `127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"], env });
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
  return {
    url,
    stdout: () => out,
    logs: () => out + err,
    async stop() {
      // Stopped by its own handle (its PID), never by name.
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.on("exit", r)));
    },
  };
}

/** Debian's Chromium, headless (CHROMIUM overrides the path), with any `extraArgs`. */
export function launchChromium(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
      ...extraArgs],
  });
}

/** The terminal key a page's terminal stored in IndexedDB, to act on the host as that terminal. */
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
