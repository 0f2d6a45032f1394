// R14: a reload of the counter's tab keeps the operator signed in; a new tab (a browser closed
// without sign-off) raises "not signed off", whose figures follow the batch as it is now.
// node --test tests/e2e/ (run by `make test` through scripts/test-e2e.sh).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  sale, signIn, minor, tid, startHost, launch, openPage, shot,
} from "./lib.mjs";

let host;
let browser;

before(async () => {
  host = await startHost(["10000031", "10000032"]);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await host?.stop();
});


async function reloadKeepsTheSession(locale, terminal, notSignedOff) {
  const context = await browser.newContext({ locale });
  const url = `${host.url}/pos.html?locale=${locale}&terminal=${terminal}`;
  let page = await openPage(context, url);
  await tid(page, "activation-code").fill(host.codes[terminal]);
  await tid(page, "activate").click();
  await tid(page, "operator").waitFor();
  await signIn(page, host);
  assert.equal((await sale(page, 1250)).status, "approved");

  // The same tab reloads: still signed in, no alarm, and the next sale goes through.
  await page.reload();
  await tid(page, "charge").waitFor();
  assert.match(await tid(page, "state").getAttribute("class"), /sp-signed-in/);
  assert.ok((await page.locator(".sp-head").textContent()).includes("01"), "the operator is shown");
  assert.equal(await tid(page, "recovery").count(), 0, "a same-day reload is no alarm");
  assert.equal(await tid(page, "operator").count(), 0, "no sign-in asked for");
  await shot(page, `reload-${locale}-01-after-reload`);
  assert.equal((await sale(page, 800)).status, "approved");
  await tid(page, "tab-totals").click();
  assert.equal(minor(await tid(page, "sale-amount").first().textContent()), 2050);

  // A new tab has no sessionStorage, as a browser closed without sign-off: the alarm.
  await page.close();
  page = await openPage(context, url);
  const banner = tid(page, "recovery");
  await banner.waitFor();
  assert.ok((await banner.textContent()).includes(notSignedOff), locale);
  await tid(page, "operator").waitFor();
  await shot(page, `reload-${locale}-02-new-tab`);
  // Its figures are the batch's as they are now: a sale after sign-in shows in the banner.
  await signIn(page, host);
  const net = () => banner.locator('[data-testid="net-amount"]').textContent();
  assert.equal(minor(await net()), 2050);
  assert.equal((await sale(page, 500)).status, "approved");
  assert.equal(minor(await net()), 2550, "the banner's figures are live");
  await shot(page, `reload-${locale}-03-live-banner`);
  assert.deepEqual(page.errors, []);
  await context.close();
}

test("a reload keeps the operator signed in and a new tab is not signed off, in zh-CN", async () => {
  await reloadKeepsTheSession("zh-CN", "10000031", "上次营业未签退");
});

test("a reload keeps the operator signed in and a new tab is not signed off, in en", async () => {
  await reloadKeepsTheSession("en", "10000032", "The last session was never signed off");
});
