// R22 the merchant's console, the whole story in Chromium against a real host: two counters
// trade through the widget on /pos.html, one is left signed in over the cut-off, the console
// (another browser context) flags it first and draws the day's pictures, the merchant signs
// it off from the page, the counter says why in its language and recovers through its
// banner (sign in, the closed batch settled, sign off), and the console's history shows that
// settlement. Run twice: the counters in zh-CN and the console in en, then the other way round.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  HOST_BIN, MERCHANT, startHost, launch, openPage, shot, shotDocs, axeCheck, wideElements, tid, keypad, sale, signIn,
  CARD, EXPIRY,
} from "./lib.mjs";
import { hostCli } from "../../scripts/lib/host.mjs";

const LEFT = "10000001";
const TIDY = "10000011";

const WORDS = {
  "zh-CN": {
    merchantId: "商户号", user: "用户名", password: "密码",
    flags: ["未签退", "未结算"], notSettled: ["未结算"], signOff: `将终端 ${LEFT} 签退`, signedOff: "已签退",
    remotely: "商户已在管理台将此终端签退，请重新签到", banner: "上次营业未签退", balanced: "平",
    daily: "近 30 个营业日净额（按终端叠加）", hourly: "每小时消费",
  },
  en: {
    merchantId: "Merchant id", user: "User", password: "Password",
    flags: ["Not signed off", "Not settled past cut-off"], notSettled: ["Not settled past cut-off"],
    signOff: `Sign off terminal ${LEFT}`, signedOff: "signed off",
    remotely: "The merchant signed this terminal off from the console; sign in again",
    banner: "The last session was never signed off", balanced: "balanced",
    daily: "Net amount of the last 30 business days, stacked by terminal", hourly: "Sales per hour today",
  },
};

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

/** A counter on the phone's width: the terminal activated and operator 01 signed in. */
async function counter(host, terminal, locale) {
  const context = await browser.newContext({ locale, viewport: { width: 390, height: 844 } });
  const page = await openPage(context, `${host.url}/pos.html?locale=${locale}&terminal=${terminal}`);
  await tid(page, "activation-code").fill(host.codes[terminal]);
  await tid(page, "activate").click();
  await tid(page, "operator").waitFor();
  await signIn(page, host);
  return { context, page };
}

const flagsOf = (row) => row.locator(".flag").allTextContents();

async function story(counterLocale, consoleLocale) {
  const host = await startHost([TIDY]);
  const at = WORDS[counterLocale];
  const cw = WORDS[consoleLocale];
  try {
    // Two counters trade; the second settles and signs off, the first is left signed in.
    const left = await counter(host, LEFT, counterLocale);
    assert.equal((await sale(left.page, 1250)).status, "approved");
    assert.equal((await sale(left.page, 800)).status, "approved");
    const tidy = await counter(host, TIDY, counterLocale);
    assert.equal((await sale(tidy.page, 3000)).status, "approved");
    await tid(tidy.page, "sign-off").click();
    await tid(tidy.page, "operator").waitFor();
    assert.equal(await tid(tidy.page, "slip").getAttribute("data-outcome"), "balanced");
    await tidy.context.close();

    hostCli(HOST_BIN, host.db, ["cutoff"]);

    // The merchant's console, in a browser of its own.
    const context = await browser.newContext({ locale: consoleLocale, viewport: { width: 1280, height: 900 } });
    const desk = await openPage(context, `${host.url}/console/?locale=${consoleLocale}`);
    await desk.getByLabel(cw.merchantId).fill(MERCHANT);
    await desk.getByLabel(cw.user).fill(host.consoleUser);
    await desk.getByLabel(cw.password).fill(host.consolePassword);
    await desk.keyboard.press("Enter");
    const first = desk.locator("#terminals tr").first();
    await first.locator(".flag").first().waitFor();
    assert.equal(await first.locator("th").textContent(), LEFT, "the terminal left open comes first");
    assert.deepEqual(await flagsOf(first), cw.flags);
    const tidyRow = desk.locator("#terminals tr", { has: desk.locator("th", { hasText: TIDY }) });
    assert.deepEqual(await flagsOf(tidyRow), [], "the tidy counter carries no risk");

    // The pictures: the day's net stacked by terminal, and today's sales per hour.
    await desk.locator("#daily-chart svg rect[data-terminal]").first().waitFor();
    assert.equal(await desk.locator(`#daily-chart rect[data-terminal="${LEFT}"]`).count(), 1);
    assert.equal(await desk.locator(`#daily-chart rect[data-terminal="${TIDY}"]`).count(), 1);
    assert.equal(await desk.locator("#daily-caption").textContent(), `${cw.daily} · CNY`);
    assert.ok((await desk.locator("#hourly-caption").textContent()).includes(cw.hourly));
    const dailyName = await desk.locator("#daily-chart svg").evaluate((svg) =>
      svg.getAttribute("aria-labelledby").split(" ").map((id) => document.getElementById(id).textContent).join(" "));
    assert.ok(dailyName.includes("CNY 50.50"), `the picture says its total: ${dailyName}`);
    const dailyRow = await desk.locator("#daily-table tbody tr").first().locator("td").allTextContents();
    assert.deepEqual(dailyRow, ["CNY 20.50", "CNY 30.00", "CNY 50.50"], "the same numbers as a table");
    const hourlyRows = await desk.locator("#hourly-table tbody tr").evaluateAll((rows) =>
      rows.map((r) => [...r.cells].map((c) => c.textContent)));
    assert.equal(hourlyRows.reduce((n, r) => n + Number(r[1]), 0), 3, JSON.stringify(hourlyRows));
    assert.ok(await desk.locator("#hourly-chart svg desc").textContent().then((d) => d.includes("CNY 50.50")));
    await shotDocs(desk, `${consoleLocale}-1280-console`);
    await desk.locator("#pictures").evaluate((p) => p.scrollIntoView());
    await shotDocs(desk, `${consoleLocale}-1280-console-pictures`);
    // The tables open too, so axe reads them as well as the pictures.
    for (const summary of await desk.locator("#pictures summary").all()) await summary.click();
    await axeCheck(desk, `console with its pictures, ${consoleLocale}`);
    assert.deepEqual(await wideElements(desk), [], "fits the desk");
    await desk.setViewportSize({ width: 390, height: 844 });
    // The pictures are drawn again at the phone's width.
    await desk.waitForFunction(() => Number(document.querySelector("#daily-chart svg").getAttribute("width")) <= 390);
    await desk.evaluate(() => window.scrollTo(0, 0));
    assert.deepEqual(await wideElements(desk), [], "fits a phone, pictures included");
    await axeCheck(desk, `console on a phone, ${consoleLocale}`);
    await shotDocs(desk, `${consoleLocale}-390-console`);
    await shot(desk, `console-story-${consoleLocale}-flagged`);

    // The merchant signs the terminal off from the page.
    desk.once("dialog", (d) => d.accept());
    await first.getByRole("button", { name: cw.signOff }).click();
    await desk.locator("#status", { hasText: cw.signedOff }).waitFor();
    await desk.waitForFunction((want) => [...document.querySelectorAll("#terminals tr:first-child .flag")]
      .map((f) => f.textContent).join() === want, cw.notSettled.join());

    // The counter's next operation: the widget says why, in its language, and the banner.
    const page = left.page;
    await tid(page, "tab-sale").click();
    await keypad(page, 500);
    await tid(page, "pan").fill(CARD);
    await tid(page, "expiry").fill(EXPIRY);
    await tid(page, "charge").click();
    await tid(page, "operator").waitFor();
    assert.equal(await tid(page, "error").textContent(), at.remotely);
    const own = await page.evaluate(async (locale) => {
      const { errorMessage } = await import("./pkg/softpos.js");
      return errorMessage("SIGNED_OFF_REMOTELY", locale);
    }, counterLocale);
    assert.equal(own, at.remotely, "the code's own message");
    const banner = tid(page, "recovery");
    await banner.waitFor();
    assert.ok((await banner.textContent()).includes(at.banner));
    await shot(page, `console-story-${counterLocale}-counter-told`);
    await shotDocs(page, `${counterLocale}-390-signed-off-remotely`);

    // It recovers: a sign-in settles the batch the cut-off closed, then the sign-off.
    await signIn(page, host);
    await tid(page, "slip").waitFor();
    assert.equal(await tid(page, "slip").getAttribute("data-outcome"), "balanced");
    await tid(page, "sign-off").click();
    await tid(page, "operator").waitFor();
    assert.equal(await tid(page, "recovery").count(), 0, "clean again");
    assert.deepEqual(page.errors.filter((e) => !/status of 401/.test(e)), []);
    await left.context.close();

    // The console sees it live: no risk left, and the settlement in its history.
    await desk.waitForFunction(() => document.querySelectorAll("#terminals .flag").length === 0, null, { timeout: 20000 });
    const settled = desk.locator("#settlements tr", { has: desk.locator("th", { hasText: LEFT }) });
    await settled.waitFor({ timeout: 20000 });
    assert.equal(await settled.locator("td").nth(2).textContent(), cw.balanced);
    assert.ok((await settled.locator("td").nth(1).textContent()).startsWith("#1 "), "batch 1");
    assert.deepEqual(desk.errors, [], "no console errors");
    await context.close();
  } finally {
    await host.stop();
  }
}

test("r22 the console story: counters in zh-CN, the console in en", async () => {
  await story("zh-CN", "en");
});

test("r22 the console story: counters in en, the console in zh-CN", async () => {
  await story("en", "zh-CN");
});
