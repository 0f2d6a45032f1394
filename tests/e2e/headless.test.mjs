// The module without the widget (`make pkg-headless`, cargo feature `widget` off), as a
// storefront with its own UI ships it: the host serves pkg-headless/ at /pkg/, and a page drives
// the `Terminal` API alone, from activation to an approved sale.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startHost, launch, openPage, CARD, EXPIRY, MERCHANT } from "./lib.mjs";

const root = new URL("../..", import.meta.url).pathname;
let host;
let browser;

before(async () => {
  host = await startHost(["10000041"], { args: ["--pkg", join(root, "pkg-headless")] });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await host?.stop();
});

test("r5 a storefront's own UI sells through the module built without the widget", async () => {
  const context = await browser.newContext({ locale: "en" });
  const page = await openPage(context, `${host.url}/index.html`);
  const result = await page.evaluate(
    async ([origin, merchantId, code, password, card, expiry]) => {
      const module = await import(`${origin}/pkg/softpos.js`);
      await module.default();
      const t = await module.Terminal.open({ hostUrl: origin, merchantId, terminalId: "10000041" });
      await t.activate(code);
      await t.signIn("01", password);
      const sale = await t.sale({ amount: 1250, card: { pan: card, expiry } });
      return { exports: Object.keys(module).sort(), status: sale.status, amount: sale.amount };
    },
    [host.url, MERCHANT, host.codes["10000041"], host.operatorPassword, CARD, EXPIRY],
  );
  assert.equal(result.status, "approved", JSON.stringify(result));
  assert.equal(result.amount, 1250);
  assert.ok(result.exports.includes("Terminal"), JSON.stringify(result.exports));
  assert.ok(!result.exports.includes("mountWidget"), "built without the widget");
  assert.deepEqual(page.errors, []);
  await context.close();
});
