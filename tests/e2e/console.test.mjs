// R22 the merchant's console in Chromium: a terminal trades and is left signed in over a
// cut-off, the console flags it first, the merchant signs it off from the page, and the
// terminal's session answers SIGNED_OFF_REMOTELY; both languages, a phone's width, axe. The
// whole story through the counters' widgets, and the docs' screenshots, are in
// console-story.test.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { HOST_BIN, MERCHANT, CARD, EXPIRY, startHost, launch, openPage, shot, axeCheck, wideElements } from "./lib.mjs";
import { hostCli } from "../../scripts/lib/host.mjs";

async function post(url, path, token, body) {
  const r = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

/** Terminal 10000001 activated, signed in as 01 and one sale made, over the HTTP API. */
async function trade(host) {
  const { body: { terminal_key } } = await post(host.url, "/v1/activate", null,
    { merchant_id: MERCHANT, terminal_id: "10000001", activation_code: host.codes["10000001"] });
  const { body: signIn } = await post(host.url, "/v1/sign-in", terminal_key, { operator: "01", password: host.operatorPassword });
  const sale = await post(host.url, "/v1/transactions", signIn.session_token, {
    request_id: crypto.randomUUID(), kind: "sale", trace_no: signIn.next_trace_no, amount: 12345,
    currency: "CNY", card: { pan: CARD, expiry: EXPIRY },
  });
  assert.equal(sale.status, 200, JSON.stringify(sale.body));
  return signIn.session_token;
}

test("r22 the console flags a terminal left signed in over the cut-off and signs it off", async () => {
  const host = await startHost();
  const browser = await launch();
  try {
    assert.ok(host.consoleUser && host.consolePassword, "demo prints its console user");
    const session = await trade(host);
    hostCli(HOST_BIN, host.db, ["cutoff"]);

    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN" });
    const page = await openPage(context, `${host.url}/console/`);
    await page.getByLabel("商户号").fill(MERCHANT);
    await page.getByLabel("用户名").fill(host.consoleUser);
    await page.getByLabel("密码").fill(host.consolePassword);
    await page.keyboard.press("Enter");
    const first = page.locator("#terminals tr").first();
    await first.locator(".flag").first().waitFor();
    assert.equal(await first.locator("th").textContent(), "10000001", "flagged first");
    assert.equal(await page.locator("#signin").isVisible(), false, "the sign-in form goes once signed in");
    const flags = await first.locator(".flag").allTextContents();
    assert.deepEqual(flags, ["未签退", "未结算"]);
    assert.deepEqual(await wideElements(page), [], "fits a phone");
    await axeCheck(page, "console zh-CN, phone");
    await shot(page, "console-flagged-zh");

    page.once("dialog", (d) => d.accept());
    await first.getByRole("button", { name: "将终端 10000001 签退" }).click();
    await page.locator("#status", { hasText: "已签退" }).waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll("#terminals tr:first-child .flag")]
      .map((f) => f.textContent).join() === "未结算");
    const refused = await fetch(`${host.url}/v1/batches/current`, { headers: { authorization: `Bearer ${session}` } });
    assert.equal(refused.status, 401);
    assert.equal((await refused.json()).error.code, "SIGNED_OFF_REMOTELY");

    await page.getByRole("button", { name: "English" }).click();
    await page.getByRole("heading", { name: "Terminals now" }).waitFor();
    assert.deepEqual(await first.locator(".flag").allTextContents(), ["Not settled past cut-off"]);
    await context.close();

    const wide = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const desk = await openPage(wide, `${host.url}/console/?locale=en`);
    await desk.getByLabel("Merchant id").fill(MERCHANT);
    await desk.getByLabel("User").fill(host.consoleUser);
    await desk.getByLabel("Password").fill(host.consolePassword);
    await desk.getByRole("button", { name: "Sign in" }).click();
    await desk.locator("#terminals .flag").first().waitFor();
    await axeCheck(desk, "console en, desktop");
    await shot(desk, "console-en");
    assert.deepEqual(desk.errors, [], "no console errors");
    assert.deepEqual(page.errors, [], "no console errors");
    await wide.close();
  } finally {
    await browser.close();
    await host.stop();
  }
});
