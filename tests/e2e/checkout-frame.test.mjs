// R23 the hosted checkout in Chromium, on two sites: the host at http://127.0.0.1:H (its pages,
// the frame and the loader) and the demo shop (www/shop/, README.md's storefront steps followed
// literally) served by a small Node server at http://localhost:S, both listening on 127.0.0.1
// only. A third origin (http://evil.test:S) and an origin the merchant did not register
// (http://127.0.0.1:S) play the attacker. node --test tests/e2e/checkout-frame.test.mjs
import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import {
  launch, openPage, shot, shotDocs, axeCheck, startShop, startCheckoutHost, minor, CARD, DECLINED_CARD, EXPIRY, MERCHANT,
  DEMO_HOST_URL, PARTITIONED_STORAGE,
} from "./lib.mjs";

const root = new URL("../..", import.meta.url).pathname;
const TERMINAL = "20000001";
const HELD_BACK_CARD = "4000000000003220";

let shop;
let host;
let browser;
let shopOrigin;

before(async () => {
  shop = await startShop({ "/evil.html": "<!doctype html><title>another site</title><p>another site</p>" });
  assert.equal(shop.address, "127.0.0.1", "the shop listens on loopback only");
  // localhost and 127.0.0.1 are two sites: the frame is third-party to the shop, its storage
  // partitioned, as on the web.
  shopOrigin = `http://localhost:${shop.port}`;
  host = await startCheckoutHost(shopOrigin);
  assert.match(host.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  shop.setHost(host.url);
  browser = await launch(["--host-resolver-rules=MAP evil.test 127.0.0.1", PARTITIONED_STORAGE]);
});

// A page left open by a failed test would hold its lane (one tab per terminal) from the next.
const opened = [];
afterEach(async () => {
  for (const page of opened.splice(0)) await page.close().catch(() => {});
});

after(async () => {
  await (await customerContext)?.close();
  await browser?.close();
  await host?.stop();
  await shop?.stop();
});

/** The checkout frame of a shop page (a playwright Frame), once it has loaded. */
async function checkoutFrame(page) {
  const handle = await page.waitForSelector("softpos-checkout iframe");
  for (;;) {
    const frame = await handle.contentFrame();
    if (frame && frame.url().includes("/checkout-frame.html")) return frame;
    await page.waitForTimeout(50);
  }
}

/** A browser context whose pages record, from their first moment, every event a
 * <softpos-checkout> fires (they bubble to the document) in `window.seen`. */
async function newContext() {
  const context = await browser.newContext({ locale: "en" });
  await context.addInitScript(() => {
    window.seen = [];
    for (const type of ["softpos-ready", "softpos-result", "softpos-error"]) {
      document.addEventListener(type, (e) => window.seen.push({ type, detail: e.detail ?? null }));
    }
  });
  return context;
}

const seen = (page, type) => page.evaluate((t) => window.seen.filter((e) => e.type === t), type);

/** Opens the shop and waits until the frame says it is ready (the pay button shows). */
async function openShop(context, url = `${shopOrigin}/index.html`) {
  const page = await context.newPage();
  opened.push(page);
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && page.errors.push(m.text()));
  await page.goto(url);
  const frame = await checkoutFrame(page);
  await frame.getByTestId("pay").waitFor({ timeout: 20000 });
  return { page, frame };
}

async function pay(frame, card = CARD) {
  await frame.getByTestId("pan").fill(card);
  await frame.getByTestId("expiry").fill(EXPIRY);
  await frame.getByTestId("pay").click();
}

/** The host's totals of a lane's open batch, asked as that lane (its key from the frame's
 * storage; `POST /v1/checkout/sign-in`, which ends the frame's session). */
async function laneTotals(frame) {
  const { lane, key } = await frame.evaluate(async ([merchant, terminal]) => {
    const laneId = localStorage.getItem(`softpos-lane:${merchant}/${terminal}`);
    const db = await new Promise((res, rej) => {
      const o = indexedDB.open("softpos");
      o.onsuccess = () => res(o.result);
      o.onerror = () => rej(o.error);
    });
    const meta = await new Promise((res) => {
      const g = db.transaction("meta").objectStore("meta").get(`${merchant}/${laneId}`);
      g.onsuccess = () => res(g.result);
    });
    db.close();
    return { lane: laneId, key: meta.terminal_key };
  }, [MERCHANT, TERMINAL]);
  const signIn = await fetch(`${host.url}/v1/checkout/sign-in`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: "{}",
  });
  assert.equal(signIn.status, 200, await signIn.clone().text());
  const { session_token } = await signIn.json();
  const r = await fetch(`${host.url}/v1/batches/current`, { headers: { authorization: `Bearer ${session_token}` } });
  return { lane, totals: (await r.json()).host_totals };
}

// One customer's browser for most tests: one lane of the checkout terminal, several orders.
let customerContext;
const customer = () => (customerContext ??= newContext());

test("r23 the README's storefront steps are the demo shop's page and the merchant's commands", () => {
  const readme = readFileSync(`${root}/README.md`, "utf8");
  const section = readme.slice(readme.indexOf("## Taking payments in a web shop"));
  const html = section.match(/```html\n([\s\S]*?)```/)[1];
  const page = readFileSync(`${root}/www/shop/index.html`, "utf8").replaceAll(DEMO_HOST_URL, "https://acquirer.example");
  const squash = (s) => s.replace(/\s+/g, " ").trim();
  for (const tag of html.match(/<(script|softpos-checkout)[\s\S]*?<\/\1>/g)) {
    assert.ok(squash(page).includes(squash(tag)), `www/shop/index.html has the README's\n${tag}`);
  }
  assert.ok(section.includes("--checkout-origin https://shop.example"));
  assert.ok(section.includes("--allow-origin https://shop.example"));
  assert.equal(host.added.trim().split("\n").pop(), `checkout terminal ${TERMINAL} bound to ${shopOrigin}`);
});

test("r23 a payment completes in the frame and the shop receives the result without card data", async () => {
  const { page, frame } = await openShop(await customer());
  assert.equal((await seen(page, "softpos-ready")).length, 1);
  assert.equal(await page.locator("softpos-checkout iframe").getAttribute("title"), "Card payment");
  assert.equal(minor(await frame.getByTestId("due").textContent()), 12800);
  // The frame sizes its iframe to its content.
  const fits = async () => {
    const outer = await page.locator("softpos-checkout iframe").evaluate((f) => f.getBoundingClientRect().height);
    const inner = await frame.evaluate(() => document.getElementById("frame").getBoundingClientRect().height);
    return Math.abs(outer - Math.ceil(inner)) <= 1;
  };
  await page.waitForFunction(() => true);
  assert.ok(await fits(), "the iframe is as tall as the form");
  await axeCheck(frame, "the checkout frame");
  await shot(page, "checkout-frame-01-ready");
  await shotDocs(page, "en-1280-checkout-frame-ready");

  await pay(frame);
  await page.waitForFunction(() => window.seen.some((e) => e.type === "softpos-result"));
  const [{ detail: result }] = await seen(page, "softpos-result");
  assert.equal(result.status, "approved", JSON.stringify(result));
  assert.equal(result.amount, 12800);
  assert.equal(result.currency, "CNY");
  assert.equal(result.reference, "TEA-2026-0001");
  assert.match(result.rrn, /^\d{12}$/);
  const text = JSON.stringify(result);
  assert.ok(!text.includes(CARD) && !text.includes("411111") && !/pan|card|expiry/i.test(Object.keys(result).join()),
    `no card data reaches the shop: ${text}`);
  await page.getByText("Order TEA-2026-0001 is paid").waitFor();
  await frame.getByTestId("result").waitFor();
  await page.waitForFunction(async () => true);
  for (let i = 0; i < 20 && !(await fits()); i++) await page.waitForTimeout(50);
  assert.ok(await fits(), "the iframe follows the receipt's height");
  await shot(page, "checkout-frame-02-paid");
  await shotDocs(page, "en-1280-checkout-frame-paid");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("r23 the shop's script cannot read the card input: no document, no input events", async () => {
  const { page, frame } = await openShop(await customer());
  const reach = await page.evaluate(() => {
    const iframe = document.querySelector("softpos-checkout iframe");
    let error = null;
    try {
      void iframe.contentWindow.document.body;
    } catch (e) {
      error = e.name;
    }
    return { contentDocument: iframe.contentDocument, error };
  });
  assert.equal(reach.contentDocument, null, "frame.contentDocument is null");
  assert.equal(reach.error, "SecurityError");

  // Keyboard only: Tab from the shop's last control goes into the frame's card number.
  await page.locator("#gift-wrap").focus();
  await page.keyboard.press("Tab");
  assert.equal(await frame.evaluate(() => document.activeElement?.dataset.testid), "pan");
  // From here on every key is typed in the frame: the shop's document hears none of them.
  await page.evaluate(() => {
    window.keys = [];
    for (const type of ["input", "beforeinput", "change", "keydown", "keypress", "keyup", "paste"]) {
      window.addEventListener(type, (e) => window.keys.push(`${type}:${e.key ?? ""}`), true);
    }
  });
  await page.keyboard.type(CARD);
  await page.keyboard.press("Tab");
  assert.equal(await frame.evaluate(() => document.activeElement?.dataset.testid), "expiry");
  await page.keyboard.type(EXPIRY);
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => window.seen.some((e) => e.type === "softpos-result"));
  assert.deepEqual(await page.evaluate(() => window.keys), [], "no key or input event reached the shop");
  assert.ok(!(await page.content()).includes(CARD));
  const [{ detail: result }] = await seen(page, "softpos-result");
  assert.equal(result.status, "approved");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("r23 a message from a third origin is ignored by the frame and by the loader", async () => {
  // A page of another site opens the shop and holds its window: it can post to the shop and
  // to the frame inside it.
  const context = await customer();
  const evil = await openPage(context, `http://evil.test:${shop.port}/evil.html`);
  const [popup] = await Promise.all([
    context.waitForEvent("page"),
    evil.evaluate((url) => {
      window.shop = window.open(url);
    }, `${shopOrigin}/index.html`),
  ]);
  opened.push(evil, popup);
  popup.errors = [];
  popup.on("pageerror", (e) => popup.errors.push(String(e)));
  await popup.waitForLoadState();
  const frame = await checkoutFrame(popup);
  await frame.getByTestId("pay").waitFor();
  await evil.evaluate(() => {
    window.shop.frames[0].postMessage({ type: "setAmount", amount: 1 }, "*");
    window.shop.postMessage({ type: "result", result: { status: "approved", amount: 1 } }, "*");
    window.shop.postMessage({ type: "ready" }, "*");
    window.shop.postMessage({ type: "resize", height: 1 }, "*");
  });
  await popup.waitForTimeout(500);
  assert.equal(minor(await frame.getByTestId("due").textContent()), 12800, "the amount is the shop's");
  assert.deepEqual(await seen(popup, "softpos-result"), []);
  assert.ok((await popup.locator("softpos-checkout iframe").evaluate((f) => f.offsetHeight)) > 100);
  await pay(frame);
  await popup.waitForFunction(() => window.seen.some((e) => e.type === "softpos-result"));
  const results = await seen(popup, "softpos-result");
  assert.equal(results.length, 1);
  assert.equal(results[0].detail.amount, 12800);
  assert.deepEqual(popup.errors, []);
  await popup.close();
  await evil.close();
});

test("r23 the frame refuses a currency that is not its terminal's and says so to the shop", async () => {
  const { page } = await openShop(await customer());
  // The shop replaces its element with one in another currency.
  await page.evaluate(() => {
    const old = document.querySelector("softpos-checkout");
    const el = old.cloneNode();
    el.setAttribute("currency", "USD");
    window.seen = [];
    old.replaceWith(el);
  });
  await page.waitForFunction(() => window.seen.length > 0);
  assert.deepEqual(await page.evaluate(() => window.seen), [{ type: "softpos-error",
    detail: { code: "BAD_REQUEST", message: "The shop's currency is not the checkout terminal's" } }]);
  const frame = await checkoutFrame(page);
  await frame.getByRole("alert").filter({ hasText: "The shop's currency is not the checkout terminal's" }).waitFor();
  assert.equal(await frame.getByTestId("pay").count(), 0, "no card form");
});

test("r18 r23 a second tab of the shop is told the payment is open in the first", async () => {
  const context = await customer();
  await openShop(context);
  const page = await context.newPage();
  opened.push(page);
  await page.goto(`${shopOrigin}/index.html`);
  const frame = await checkoutFrame(page);
  await page.waitForFunction(() => window.seen.some((e) => e.type === "softpos-error"));
  const [{ detail }] = await seen(page, "softpos-error");
  const words = "This shop's payment is open in another tab or window; finish or close it there, then try again";
  assert.deepEqual(detail, { code: "BUSY", message: words });
  await frame.getByRole("alert").filter({ hasText: words }).waitFor();
  assert.equal(await frame.getByTestId("pay").count(), 0, "one tab per lane: no card form in the second");
});

test("r23 a page on an origin not allowed cannot frame the checkout", async () => {
  const context = await newContext();
  // The same page from an origin the merchant did not register: the browser refuses the frame
  // (frame-ancestors), so nothing loads in it and nothing is posted.
  const page = await context.newPage();
  const refused = [];
  page.on("console", (m) => /frame-ancestors/.test(m.text()) && refused.push(m.text()));
  await page.goto(`http://127.0.0.1:${shop.port}/index.html`);
  await page.waitForTimeout(1500);
  assert.equal(refused.length, 1, "Chromium refused to frame it");
  assert.deepEqual(await page.evaluate(() => window.seen), []);
  const inside = await page.locator("softpos-checkout iframe").evaluate((f) => f.contentDocument);
  assert.equal(inside, null);
  const frame = page.frames().find((f) => f !== page.mainFrame());
  assert.ok(!frame || !(await frame.locator("#checkout").count().catch(() => 0)), "no checkout rendered");
  await shot(page, "checkout-frame-03-refused");

  // Opened on its own, the frame refuses to run too, in the customer's language.
  for (const [locale, words] of [["zh-CN", "此支付页面只能嵌入商户的网店页面使用"],
    ["en", "This payment page works only inside the merchant's shop"]]) {
    const alone = await openPage(context,
      `${host.url}/checkout-frame.html?merchant_id=${MERCHANT}&terminal_id=${TERMINAL}&amount=100&locale=${locale}`);
    await alone.getByText(words).waitFor();
    assert.equal(await alone.getByTestId("pay").count(), 0);
    await alone.close();
  }
  await context.close();
});

test("r8 r18 a reload of the shop mid-payment: the frame's storage reverses the sale on reopen", async () => {
  const context = await newContext();
  let { page, frame } = await openShop(context);
  // This card's answer comes too late: the sale is in flight when the shop reloads.
  await pay(frame, HELD_BACK_CARD);
  await frame.getByTestId("busy").waitFor();
  await page.waitForTimeout(1000);
  await page.reload();
  frame = await checkoutFrame(page);
  await frame.getByTestId("pay").waitFor({ timeout: 40000 });
  // The reversal went before the frame said ready; the next payment goes through.
  await pay(frame);
  await page.waitForFunction(() => window.seen.some((e) => e.type === "softpos-result"));
  const [{ detail: result }] = await seen(page, "softpos-result");
  assert.equal(result.status, "approved");
  const { lane, totals } = await laneTotals(frame);
  assert.match(lane, /^W[0-9A-Z]{7}$/);
  assert.equal(totals.sale.count, 1, `only the second sale counts: ${JSON.stringify(totals)}`);
  assert.equal(totals.sale.amount, 12800);
  assert.match(host.logs(), /reversed=true/, "the held sale reached the host and was reversed");
  await context.close();
});

test("r23 setAmount before the payment changes the amount charged, and is refused after", async () => {
  const { page, frame } = await openShop(await customer());
  // The shop's own control: gift wrap adds ¥10.00, and shop.js sets the element's amount.
  await page.locator("#gift-wrap").check();
  await frame.getByTestId("due").filter({ hasText: "138.00" }).waitFor();
  await pay(frame, DECLINED_CARD);
  await page.waitForFunction(() => window.seen.some((e) => e.type === "softpos-result"));
  const [{ detail: declined }] = await seen(page, "softpos-result");
  assert.equal(declined.status, "declined");
  assert.equal(declined.amount, 13800, "the amount charged is the new one");
  // The payment has started: the amount can no longer change.
  await page.locator("#gift-wrap").uncheck();
  await page.waitForFunction(() => window.seen.some((e) => e.type === "softpos-error"));
  const [{ detail: error }] = await seen(page, "softpos-error");
  assert.equal(error.code, "BUSY");
  assert.equal(error.message, "The payment has started; its amount can no longer be changed");
  assert.deepEqual(page.errors, []);
  await page.close();
});

/** A port free on 127.0.0.1 now (the receiver takes it later; another program could take it in
 * between, which the test would report as a receiver that cannot listen). */
async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** README.md's shop server, docs/examples/webhook-receiver.mjs, run as a shop would run it (its
 * secret and port from the environment); its stdout so far in `lines()`, stopped by its PID. */
async function startReceiver(secret, port) {
  const child = spawn(process.execPath, [`${root}/docs/examples/webhook-receiver.mjs`],
    { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, SOFTPOS_WEBHOOK_SECRET: secret, PORT: String(port) } });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  await new Promise((resolve, reject) => {
    child.stdout.on("data", () => out.includes(`listening on ${port}\n`) && resolve());
    child.on("exit", (code) => reject(new Error(`the receiver exited (${code}): ${out}`)));
  });
  return {
    lines: () => out.split("\n").filter(Boolean),
    async stop() {
      process.kill(child.pid, "SIGTERM");
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.on("exit", r)));
    },
  };
}

/** Waits until `found()` gives something truthy (polled every 50 ms, `ms` at most). */
async function until(found, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = found();
    if (got) return got;
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("r23 the shop's server finds the payment by reference and its webhook receiver verifies the event once", async () => {
  const readme = readFileSync(`${root}/README.md`, "utf8");
  const section = readme.slice(readme.indexOf("## Verifying a payment from the shop's server"));
  assert.ok(section.includes(`softpos-host apikey add --merchant ${MERCHANT}`));
  assert.ok(section.includes(`softpos-host webhook set --merchant ${MERCHANT} --webhook-url`));
  // A host and a shop of this test's own: the webhook is set before the host starts, as the
  // README has it. The shop's page is the demo shop's with an order number of this run.
  const reference = `TEA-${Date.now()}-${process.pid}`;
  const page = readFileSync(`${root}/www/shop/index.html`, "utf8");
  assert.ok(page.includes('reference="TEA-2026-0001"'));
  const ownShop = await startShop({ "/index.html": page.replace('reference="TEA-2026-0001"', `reference="${reference}"`) });
  const origin = `http://localhost:${ownShop.port}`;
  const hookPort = await freePort();
  // Retries after 300 ms, 600 ms … rather than 5 s, 10 s …: the hidden serve option.
  const ownHost = await startCheckoutHost(origin, TERMINAL, ["--webhook-first-retry-ms", "300"], [
    ["apikey", "add", "--merchant", MERCHANT],
    ["webhook", "set", "--merchant", MERCHANT, "--webhook-url", `http://127.0.0.1:${hookPort}/softpos`],
  ]);
  const context = await newContext();
  let receiver;
  try {
    ownShop.setHost(ownHost.url);
    const [apiKey, secret] = ownHost.ran.map((out) => out.trim().split("\n").pop().trim());
    assert.match(apiKey, /^sk_\S+$/);
    assert.match(secret, /^whsec_\S+$/);

    const { page: shopPage, frame } = await openShop(context, `${origin}/index.html`);
    await pay(frame);
    await shopPage.waitForFunction(() => window.seen.some((e) => e.type === "softpos-result"));
    const [{ detail: result }] = await seen(shopPage, "softpos-result");
    assert.equal(result.status, "approved", JSON.stringify(result));
    assert.equal(result.reference, reference);

    // The first delivery fails: the receiver is started only once the host has posted the
    // event to its port and found nothing listening (simpler than a proxy answering 500, and
    // the same to the host: no 2xx, so it posts again later).
    const failed = await until(() => ownHost.logs().match(/webhook not delivered.*event_id=(evt_[0-9a-f-]+)/)
      ?? ownHost.logs().match(/event_id=(evt_[0-9a-f-]+).*webhook not delivered/), 20000,
      `the host's first post of the event failing:\n${ownHost.logs()}`);
    const eventId = failed[1];
    receiver = await startReceiver(secret, hookPort);

    // The shop's server asks, as README.md says: GET /v1/merchant/payments?reference=… with its key.
    const asked = await fetch(`${ownHost.url}/v1/merchant/payments?reference=${encodeURIComponent(reference)}`,
      { headers: { Authorization: `Bearer ${apiKey}` } });
    assert.equal(asked.status, 200, await asked.clone().text());
    const { payments } = await asked.json();
    assert.equal(payments.length, 1, JSON.stringify(payments));
    assert.equal(payments[0].reference, reference);
    assert.equal(payments[0].status, "approved");
    assert.equal(payments[0].amount, 12800);
    assert.equal(payments[0].currency, "CNY");
    assert.equal(payments[0].rrn, result.rrn, "the RRN the frame showed the shop");

    // Told: the receiver verified the signature (it answers 400 and prints nothing otherwise)
    // and printed the event once, though its first post failed.
    const line = `payment.approved ${eventId} ${reference} approved`;
    await until(() => receiver.lines().includes(line), 20000, `"${line}" from the receiver: ${receiver.lines()}`);
    // Longer than the next retries would take: a second post of the event would show.
    await new Promise((r) => setTimeout(r, 2000));
    assert.deepEqual(receiver.lines().filter((l) => l.includes(eventId)), [line], "once per event id");
    assert.deepEqual(receiver.lines().filter((l) => l.startsWith("payment.")), [line], "one event, the sale's");
    assert.match(ownHost.logs(), new RegExp(`event_id=${eventId}.*webhook delivered|webhook delivered.*event_id=${eventId}`));
  } finally {
    await receiver?.stop();
    await context.close();
    await ownHost.stop();
    await ownShop.stop();
  }
});
