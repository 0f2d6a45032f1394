// Shared set-up of the end-to-end tests: a real softpos-host (the `demo` command, on a fresh
// SQLite file and a free loopback port, serving www/ and pkg/) and Debian's Chromium driven
// by playwright-core. Screenshots go to target/e2e/.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { MERCHANT, hostCli, launchChromium, provision, spawnHost, terminalKey } from "../../scripts/lib/host.mjs";

export { MERCHANT, terminalKey };

const root = new URL("../..", import.meta.url).pathname;
export const HOST_BIN = process.env.SOFTPOS_HOST_BIN ?? join(root, "target/debug/softpos-host");
export const SHOTS = join(root, "target/e2e");
export const CARD = "4111111111111111";
export const DECLINED_CARD = "4000000000000002";
export const EXPIRY = "12/30";

/** Starts the demo host with extra terminals; resolves with its URL, codes and passwords.
 * `port` (default: a free one) and `allowOrigin` are for a page served under another name;
 * `args` are more options of `softpos-host demo` (`--acquirer …`). */
export async function startHost(extraTerminals = [], { port = 0, allowOrigin = [], args = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "softpos-e2e-"));
  const db = `sqlite://${dir}/host.db`;
  const codes = provision(HOST_BIN, db, extraTerminals);
  const origins = allowOrigin.flatMap((o) => ["--allow-origin", o]);
  const host = await spawnHost(HOST_BIN, ["demo", "--db", db, "--www", join(root, "www"), ...origins, ...args],
    process.env, port);
  const field = (re) => host.stdout().match(re)?.[1];
  codes["10000001"] = field(/^activation code:\s+(\S+)$/m);
  codes["10000002"] = field(/checkout page:\s+terminal 10000002, activation code (\S+)$/m);
  return {
    url: host.url,
    codes,
    operatorPassword: field(/operator 01:\s+password (\S+)/),
    supervisorPassword: field(/supervisor 00:\s+password (\S+)/),
    consoleUser: field(/console:\s+\/console\/ user (\S+),/),
    consolePassword: field(/console:\s+\/console\/ user \S+, password (\S+)/),
    db,
    logs: host.logs,
    async stop() {
      await host.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Chromium's flag that keeps the features playwright-core turns off, but for
 * ThirdPartyStoragePartitioning (playwright issue 32230). Chromium partitions a third-party
 * frame's storage by the top-level site; without it, and with third-party cookies blocked as
 * in playwright's contexts, a frame of another site gets no storage at all. The checkout frame
 * lives on that storage (docs/browser.md, "The checkout frame"), so its test runs Chromium as
 * it ships. */
export const PARTITIONED_STORAGE = "--disable-features=AvoidUnnecessaryBeforeUnloadCheckSync,"
  + "DestroyProfileOnBrowserClose,HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,LensOverlay,MediaRouter,"
  + "PaintHolding,AvoidCorsURLLoaderRestartOnRedirect,OptimizationHints,NetworkTimeServiceQuerying";

export async function launch(extraArgs = []) {
  mkdirSync(SHOTS, { recursive: true });
  return launchChromium(extraArgs);
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

/** Where shotDocs writes: target/e2e/screens/, unless SOFTPOS_SCREENS says docs/screens (the
 * committed set, docs/browser.md "Screens"). Each run's shots differ (times, RRNs), so a plain
 * test run leaves the committed ones alone. */
export const SCREENS = process.env.SOFTPOS_SCREENS ?? join(SHOTS, "screens");

/** A screenshot for the docs: the viewport only (what a phone shows without scrolling). */
export async function shotDocs(page, name) {
  mkdirSync(SCREENS, { recursive: true });
  await page.screenshot({ path: join(SCREENS, `${name}.png`) });
}

let axeSource;

/** The page's serious and critical accessibility violations (axe-core, WCAG 2.1 AA and best
 * practice), one line each: rule, impact, and the elements it found. Empty when clean. */
export async function axeViolations(page) {
  // Evaluated rather than added as a <script>: the pages' CSP (script-src 'self') refuses an
  // inline script, and the test should not turn the CSP off to look at the page.
  axeSource ??= readFileSync(join(root, "node_modules/axe-core/axe.min.js"), "utf8");
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(" ")),
    }));
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.targets.join(", ")}`);
}

/** Fails, listing each of them, when axe finds a serious or critical violation. */
export async function axeCheck(page, label) {
  const found = await axeViolations(page);
  if (found.length) throw new Error(`${label}: axe found\n  ${found.join("\n  ")}`);
}

/** The elements wider than the viewport, and whether the page scrolls sideways: each as a
 * short selector with its box. Empty when everything fits. */
export function wideElements(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const name = (el) => el.tagName.toLowerCase() + (el.dataset.testid ? `[data-testid=${el.dataset.testid}]` : "")
      + (el.className && typeof el.className === "string" ? `.${el.className.trim().split(/\s+/).join(".")}` : "");
    const wide = [];
    if (document.documentElement.scrollWidth > width) {
      wide.push(`document scrolls sideways: ${document.documentElement.scrollWidth} > ${width}`);
    }
    for (const el of document.body.querySelectorAll("*")) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;
      // Half a pixel of slack for subpixel layout.
      if (box.left < -0.5 || box.right > width + 0.5) {
        wide.push(`${name(el)}: ${Math.round(box.left)}..${Math.round(box.right)} of ${width}`);
      }
    }
    // The first few say enough: the rest are usually their parents and children.
    return wide.length > 8 ? [...wide.slice(0, 8), `and ${wide.length - 8} more`] : wide;
  });
}

/** An element of the widget by its `data-testid`. */
export const tid = (page, id) => page.getByTestId(id);

/** An amount as the widget shows it (`¥1,234.50`), in minor units. */
export const minor = (text) => Number(text.replace(/[^0-9-]/g, ""));

/** Signs operator 01 in with the host's password and waits for the sale tab. */
export async function signIn(page, host) {
  await tid(page, "operator").fill("01");
  await tid(page, "password").fill(host.operatorPassword);
  await tid(page, "sign-in").click();
  await tid(page, "charge").waitFor();
}

/** A sale of `amount` minor units on the sale tab, keyed on the keypad; resolves with what the
 * receipt says: its status, trace number and RRN. */
export async function sale(page, amount, card = CARD) {
  await tid(page, "tab-sale").click();
  await keypad(page, amount);
  await tid(page, "pan").fill(card);
  await tid(page, "expiry").fill(EXPIRY);
  await tid(page, "charge").click();
  const result = tid(page, "result");
  await result.waitFor();
  return {
    status: await result.getAttribute("data-status"),
    trace: Number(await tid(page, "trace").textContent()),
    rrn: (await tid(page, "rrn").count()) ? await tid(page, "rrn").textContent() : null,
  };
}

/** The acquirer peer (tests/acquirer/peer.py on pyiso8583, from target/acquirer-venv) on a free
 * loopback port, keeping the demo host's time zone; resolves with its address, the messages it
 * journaled, and a stop that kills it by its PID. */
export async function startPeer() {
  const dir = mkdtempSync(join(tmpdir(), "softpos-peer-"));
  const journal = join(dir, "peer.jsonl");
  const python = join(root, "target/acquirer-venv/bin/python");
  const child = spawn(python, [join(root, "tests/acquirer/peer.py"), "--listen", "127.0.0.1:0", "--journal", journal],
    { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, TZ: "Asia/Shanghai" } });
  const addr = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/^listening on (\S+)$/m);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`the peer exited (${code}); run scripts/tools.sh acquirer`)));
  });
  return {
    addr,
    /** Every message in and out, as the peer journaled it (card numbers masked). */
    messages: () => readFileSync(journal, "utf8").trim().split("\n").map((l) => JSON.parse(l)),
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.on("exit", r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The demo shop's pages name the demo host's default address; a shop server puts the real one in. */
export const DEMO_HOST_URL = "http://127.0.0.1:8080";

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css" };

/** A small static server for a storefront on an origin of its own: `www/shop/` (the demo shop,
 * written as README.md tells a storefront developer) on 127.0.0.1 only, port 0, with a strict
 * CSP of its own that allows the host's script and frame and nothing inline. `setHost(url)`
 * names the host; the pages' DEMO_HOST_URL becomes it. `extra` maps more paths to HTML. */
export async function startShop(extra = {}) {
  const dir = join(root, "www/shop");
  let hostUrl = DEMO_HOST_URL;
  const server = createServer((req, res) => {
    const path = new URL(req.url, "http://shop").pathname.replace(/^\/$/, "/index.html");
    let body = extra[path];
    if (body === undefined) {
      const file = normalize(join(dir, path));
      try {
        if (!file.startsWith(`${dir}/`)) throw new Error("outside");
        body = readFileSync(file, "utf8");
      } catch {
        res.writeHead(404).end();
        return;
      }
    }
    res.writeHead(200, {
      "content-type": TYPES[extname(path)] ?? "application/octet-stream",
      "cache-control": "no-store",
      "content-security-policy": `default-src 'self'; script-src 'self' ${hostUrl}; frame-src ${hostUrl}; `
        + "style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'",
    });
    res.end(body.replaceAll(DEMO_HOST_URL, hostUrl));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: server.address().port,
    address: server.address().address,
    setHost(url) {
      hostUrl = url;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A host as README.md's storefront steps set it up: `terminal add --checkout-origin SHOP` for
 * the checkout terminal, then `serve --allow-origin SHOP` (on a fresh SQLite file, a free
 * loopback port, serving www/ and pkg/). `args` are more options of `serve`; `commands` are
 * more `softpos-host` commands run on its database between the two (README.md's `apikey add`,
 * `webhook set`), each an array of arguments without `--db`. Resolves with its URL, what
 * `terminal add` printed, what each of `commands` printed (`ran`), and its logs. */
export async function startCheckoutHost(shopOrigin, terminalId = "20000001", args = [], commands = []) {
  const dir = mkdtempSync(join(tmpdir(), "softpos-e2e-"));
  const db = `sqlite://${dir}/host.db`;
  const added = hostCli(HOST_BIN, db, ["terminal", "add", "--merchant", MERCHANT, "--terminal", terminalId,
    "--checkout-origin", shopOrigin]);
  const ran = commands.map((command) => hostCli(HOST_BIN, db, command));
  const host = await spawnHost(HOST_BIN, ["serve", "--db", db, "--www", join(root, "www"),
    "--allow-origin", shopOrigin, ...args], process.env, 0);
  return {
    url: host.url,
    added,
    ran,
    logs: host.logs,
    async stop() {
      await host.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
