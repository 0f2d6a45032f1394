// A merchant's day through the real pages in headless Chromium against a real host:
// node --test tests/e2e/ (run by `make test` through scripts/test-e2e.sh).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  sale, signIn, minor, tid, startHost, launch, openPage, shot, keypad, terminalKey, hostTotals, CARD, DECLINED_CARD, EXPIRY,
  startPeer,
} from "./lib.mjs";

let host;
let browser;

before(async () => {
  host = await startHost(["10000011", "10000012"]);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await host?.stop();
});


/** A whole day at the counter: activate, sign in, three sales (one declined), a void, a
 * partial refund, the totals against the host's, settle, sign off, then a refused sale. */
async function businessDay(h, locale, terminal, text) {
  const context = await browser.newContext({ locale, viewport: { width: 820, height: 1180 } });
  const page = await openPage(context, `${h.url}/pos.html?locale=${locale}&terminal=${terminal}`);
  const step = (n, name) => shot(page, `${locale}-${String(n).padStart(2, "0")}-${name}`);

  await tid(page, "activation-code").fill(h.codes[terminal]);
  await step(1, "activate");
  await tid(page, "activate").click();
  await tid(page, "operator").waitFor();
  await step(2, "sign-in");
  await signIn(page, h);

  const s1 = await sale(page, 1250, CARD);
  assert.equal(s1.status, "approved");
  await step(3, "sale-approved");
  const s2 = await sale(page, 3000, DECLINED_CARD);
  assert.equal(s2.status, "declined");
  await step(4, "sale-declined");
  const s3 = await sale(page, 8800, CARD);
  assert.equal(s3.status, "approved");

  await tid(page, "tab-journal").click();
  await tid(page, `void-${s1.trace}`).click();
  await tid(page, "void-supervisor").fill(h.supervisorPassword);
  await step(5, "void-supervisor");
  await tid(page, "void-confirm").click();
  await tid(page, "result").waitFor();
  assert.equal(await tid(page, "result").getAttribute("data-status"), "approved");

  await tid(page, "tab-refund").click();
  // The sale is picked from the batch's list by its card's last four digits, the amount keyed.
  await tid(page, "find-query").fill(CARD.slice(-4));
  await tid(page, "find").click();
  await tid(page, `pick-${s3.rrn}`).click();
  await keypad(page, 2000);
  await tid(page, "refund-supervisor").fill(h.supervisorPassword);
  await tid(page, "refund-submit").click();
  await tid(page, "result").waitFor();
  assert.equal(await tid(page, "result").getAttribute("data-status"), "approved");
  await step(6, "refund");

  await tid(page, "tab-totals").click();
  const panel = {};
  for (const id of ["sale-count", "sale-amount", "void-count", "void-amount", "refund-count", "refund-amount", "net-amount"]) {
    panel[id] = minor(await tid(page, id).first().textContent());
  }
  assert.deepEqual(panel, {
    "sale-count": 2, "sale-amount": 10050, "void-count": 1, "void-amount": 1250,
    "refund-count": 1, "refund-amount": 2000, "net-amount": 6800,
  });
  await step(7, "totals");
  // The host's own count of the batch, read through a second session of this terminal.
  const key = await terminalKey(page, terminal);
  const hostSide = await hostTotals(h.url, key, "01", h.operatorPassword);
  assert.deepEqual(
    [hostSide.sale.count, hostSide.sale.amount, hostSide.void.count, hostSide.void.amount,
      hostSide.refund.count, hostSide.refund.amount, hostSide.net_amount],
    [panel["sale-count"], panel["sale-amount"], panel["void-count"], panel["void-amount"],
      panel["refund-count"], panel["refund-amount"], panel["net-amount"]],
  );

  // That second session ended the counter's: the widget says so and asks to sign in again.
  await tid(page, "settle").click();
  await tid(page, "operator").waitFor();
  assert.equal(await tid(page, "error").textContent(), text.sessionExpired);
  await signIn(page, h);
  await tid(page, "settle").click();
  await tid(page, "slip").waitFor();
  assert.equal(await tid(page, "slip").getAttribute("data-outcome"), "balanced");
  assert.ok((await tid(page, "slip").textContent()).includes(text.balanced));
  // R11's second level: the acquirer (the simulator, or the peer behind the gateway) agrees.
  assert.equal(await tid(page, "acquirer-outcome").getAttribute("data-acquirer"), "balanced");
  assert.equal(await tid(page, "acquirer-outcome").textContent(), text.acquirer);
  await step(8, "settlement-slip");

  await tid(page, "sign-off").click();
  await tid(page, "operator").waitFor();
  await step(9, "signed-off");
  const refusal = await page.evaluate(async () => {
    const { errorMessage } = await import("./pkg/softpos.js");
    const el = document.querySelector("softpos-terminal");
    try {
      await el.terminal.sale({ amount: 100, card: { pan: "4111111111111111", expiry: "12/30" } });
      return null;
    } catch (e) {
      return { code: e.code, zh: errorMessage(e.code, "zh-CN") };
    }
  });
  assert.deepEqual(refusal, { code: "NOT_SIGNED_IN", zh: "请先签到" });
  // The only console errors allowed are the browser's own lines for the 401 answers the
  // day provoked on purpose (the ended session).
  assert.deepEqual(page.errors.filter((e) => !/status of 401/.test(e)), []);
  await context.close();
}

test("a whole business day at the counter in zh-CN", async () => {
  await businessDay(host, "zh-CN", "10000001", { sessionExpired: "会话已结束，请重新签到", balanced: "对账平", acquirer: "收单行对账：平" });
});

test("a whole business day at the counter in en", async () => {
  await businessDay(host, "en", "10000011", { sessionExpired: "The session has ended; please sign in again", balanced: "Balanced", acquirer: "Acquirer: balanced" });
});

test("a whole business day at the counter in zh-CN, forwarded to an ISO 8583 acquirer", async () => {
  // The host as a gateway: every operation crosses the link to the pyiso8583 peer, whose books
  // must come out the same as the terminal's and the host's.
  const peer = await startPeer();
  const gateway = await startHost([], { args: ["--acquirer", `iso8583://${peer.addr}`] });
  try {
    await businessDay(gateway, "zh-CN", "10000001", { sessionExpired: "会话已结束，请重新签到", balanced: "对账平", acquirer: "收单行对账：平" });
    const sent = peer.messages().filter((m) => m.dir === "in").map((m) => m.mti);
    for (const mti of ["0800", "0200", "0220", "0500", "0820"]) assert.ok(sent.includes(mti), `${mti} in ${sent}`);
    // The host settled the batch with the acquirer too, and the acquirer's books agree.
    const settled = peer.messages().filter((m) => m.dir === "out" && m.mti === "0510");
    assert.equal(settled.length, 1, "one settlement upstream");
    assert.equal(settled[0].fields["48"][30], "1", "balanced with the acquirer");
    const logs = gateway.logs().split("\n").filter((l) => l.includes(CARD));
    // The demo banner lists its test cards; nothing else may name one.
    assert.deepEqual(logs.filter((l) => !/^\s*test cards:/.test(l)), [], "no log line holds a card number");
  } catch (e) {
    // What the host and the acquirer said, for whoever reads the failure.
    console.error(gateway.logs());
    console.error(JSON.stringify(peer.messages().slice(-6), null, 1));
    throw e;
  } finally {
    await gateway.stop();
    await peer.stop();
  }
});

test("closing the page mid-batch brings the recovery banner, which leads back to a clean state", async () => {
  const context = await browser.newContext({ locale: "zh-CN" });
  const url = `${host.url}/pos.html?locale=zh-CN&terminal=10000012`;
  let page = await openPage(context, url);
  await tid(page, "activation-code").fill(host.codes["10000012"]);
  await tid(page, "activate").click();
  await tid(page, "operator").waitFor();
  await signIn(page, host);
  await sale(page, 1000, CARD);
  await sale(page, 2500, CARD);
  await page.close();

  page = await openPage(context, url);
  const banner = tid(page, "recovery");
  await banner.waitFor();
  assert.ok((await banner.textContent()).includes("上次营业未签退"));
  await shot(page, "recovery-01-banner");
  await signIn(page, host);
  assert.equal(minor(await banner.locator('[data-testid="net-amount"]').textContent()), 3500);
  await shot(page, "recovery-02-review");
  await banner.locator('[data-action="settle"]').click();
  await tid(page, "slip").waitFor();
  assert.equal(await tid(page, "slip").getAttribute("data-outcome"), "balanced");
  await tid(page, "sign-off").click();
  await tid(page, "operator").waitFor();
  assert.equal(await tid(page, "recovery").count(), 0, "clean again");
  await shot(page, "recovery-03-clean");
  assert.deepEqual(page.errors, []);
  await context.close();
});

test("the storefront checkout pays through the widget", async () => {
  const context = await browser.newContext({ locale: "en" });
  const page = await openPage(context, `${host.url}/checkout.html`);
  await page.locator("#setup[open]").waitFor();
  await page.fill("#setup-form [name=code]", host.codes["10000002"]);
  await page.fill("#setup-form [name=password]", host.operatorPassword);
  await page.click("#setup-form button");
  await tid(page, "pay").waitFor();
  assert.equal(minor(await tid(page, "due").textContent()), 12800);
  // A declined card first: the shopper sees why and tries another.
  await tid(page, "pan").fill(DECLINED_CARD);
  await tid(page, "expiry").fill(EXPIRY);
  await tid(page, "pay").click();
  await tid(page, "result").waitFor();
  assert.equal(await tid(page, "result").getAttribute("data-status"), "declined");
  assert.match(await page.textContent("#order-status"), /declined \(05\)/);
  await tid(page, "retry").click();
  await tid(page, "pan").fill(CARD);
  await tid(page, "expiry").fill(EXPIRY);
  await shot(page, "checkout-01-card");
  await tid(page, "pay").click();
  await tid(page, "result").waitFor();
  assert.equal(await tid(page, "result").getAttribute("data-status"), "approved");
  assert.match(await page.textContent("#order-status"), /is paid \(RRN \d{12}\)/);
  await shot(page, "checkout-02-paid");
  assert.deepEqual(page.errors, []);
  await context.close();
});

test("a second tab on the same terminal says why it cannot open, in zh-CN and en", async () => {
  const context = await browser.newContext();
  const first = await openPage(context, `${host.url}/pos.html?terminal=10000013&locale=zh-CN`);
  await first.locator(".sp").waitFor();
  for (const [locale, text] of [
    ["zh-CN", "此终端已在另一个标签页或窗口中打开"],
    ["en", "This terminal is open in another tab or window"],
  ]) {
    const second = await openPage(context, `${host.url}/pos.html?terminal=10000013&locale=${locale}`);
    const reason = tid(second, "open-error");
    await reason.waitFor();
    assert.ok(await reason.isVisible(), locale);
    assert.ok((await reason.textContent()).includes(text), locale);
    await second.close();
  }
  // Once the first tab is gone the terminal opens in another one.
  await first.close();
  // The browser releases a closed page's lock asynchronously: wait for that, then open.
  const again = await openPage(context, `${host.url}/index.html`);
  await again.evaluate(() => navigator.locks.request("softpos:898310048160001/10000013", () => {}));
  await again.goto(`${host.url}/pos.html?terminal=10000013&locale=en`);
  await tid(again, "activation-code").waitFor();
  assert.equal(await tid(again, "open-error").count(), 0);
  await context.close();
});

test("no page logs a console error", async () => {
  const context = await browser.newContext();
  for (const path of ["index.html", "pos.html", "pos.html?locale=en", "checkout.html"]) {
    const page = await openPage(context, `${host.url}/${path}`);
    await page.waitForSelector(".sp, a.card");
    await page.waitForTimeout(200);
    assert.deepEqual(page.errors, [], path);
    if (path === "index.html") await shot(page, "index");
    // One tab at a time per terminal (its Web Lock): a second pos.html beside this one would
    // rightly be refused with BUSY, so close this one first, as a user switching pages does.
    await page.close();
  }
  await context.close();
});
