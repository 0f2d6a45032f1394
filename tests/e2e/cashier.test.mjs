// The cashier's screen at the counter, in zh-CN and en, in real Chromium against a real host:
// no amount the cashier did not type is charged, each failure says what happened to the
// customer's money, each refusal names what was wrong, and a whole sale works by keyboard.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  signIn, minor, tid, startHost, launch, openPage, shot, keypad, hostTotals, terminalKey, axeCheck, CARD, DECLINED_CARD, EXPIRY,
} from "./lib.mjs";

/** The simulator keeps this card's answer back until a reversal overtakes it (R8). */
const HELD_BACK_CARD = "4000000000003220";

const TEXT = {
  "zh-CN": {
    lostSale: "主机无应答：本笔交易将自动冲正，顾客不会被扣款",
    stillPending: "冲正尚未完成，正在重试；本笔交易未发送",
    unreachable: "无法连接主机：未发送任何交易，请检查网络后重试",
    usedCode: "激活码错误或已使用",
    wrongSupervisor: "主管密码错误",
    enterSupervisor: "请输入主管密码",
  },
  en: {
    lostSale: "No answer from the host: the sale will be reversed automatically; the customer is not charged",
    stillPending: "A reversal is still pending, trying again; this transaction was not sent",
    unreachable: "The host cannot be reached: nothing was sent. Check the connection and try again",
    usedCode: "Wrong or already used activation code",
    wrongSupervisor: "Wrong supervisor password",
    enterSupervisor: "Enter the supervisor password",
  },
};

const TERMINALS = {
  "zh-CN": ["10000031", "10000032", "10000033", "10000034", "10000035"],
  en: ["10000041", "10000042", "10000043", "10000044", "10000045"],
};

let host;
let browser;

before(async () => {
  host = await startHost([...TERMINALS["zh-CN"].slice(0, 3), ...TERMINALS.en.slice(0, 3)]);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await host?.stop();
});

const focused = (page) => page.evaluate(() => document.activeElement?.dataset.testid ?? document.activeElement?.textContent);

/** A counter page of `terminal`, activated and signed in. */
async function counter(context, h, locale, terminal, query = "") {
  const page = await openPage(context, `${h.url}/pos.html?locale=${locale}&terminal=${terminal}${query}`);
  await tid(page, "activation-code").fill(h.codes[terminal]);
  await tid(page, "activate").click();
  await signIn(page, h);
  return page;
}

async function card(page, pan) {
  await tid(page, "pan").fill(pan);
  await tid(page, "expiry").fill(EXPIRY);
}

for (const locale of ["zh-CN", "en"]) {
  const text = TEXT[locale];
  const [t1, t2, t3, t4] = TERMINALS[locale];

  test(`r8 an unanswered sale leaves no amount behind and a large one is confirmed in words (${locale})`, async () => {
    const context = await browser.newContext({ locale });
    const page = await counter(context, host, locale, t1, "&timeout-ms=1500");
    // The held-back card: no answer in time, so the sale is lost and reversed.
    await keypad(page, 2000);
    await card(page, HELD_BACK_CARD);
    await tid(page, "charge").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="error"]')?.textContent);
    assert.equal(await tid(page, "error").textContent(), text.lostSale);
    await axeCheck(page, `${locale} sale lost`);
    assert.equal(minor(await tid(page, "amount").textContent()), 0, "the amount is empty again");
    assert.equal(await tid(page, "pan").inputValue(), "", "the card is gone");
    await shot(page, `cashier-${locale}-01-lost`);
    // The next customer's amount, typed on the keyboard, is the amount charged.
    assert.equal(await focused(page), "amount");
    await page.keyboard.type("6800");
    assert.equal(minor(await tid(page, "amount").textContent()), 6800);
    await card(page, CARD);
    await tid(page, "charge").click();
    await tid(page, "result").waitFor();
    assert.equal(await tid(page, "result").getAttribute("data-status"), "approved");

    // Above the threshold (¥10 000.00 by default) the amount is asked again, in words.
    await keypad(page, 20006800);
    await card(page, CARD);
    await tid(page, "charge").click();
    await tid(page, "confirm-amount").waitFor();
    assert.equal(minor(await tid(page, "confirm-figures").textContent()), 20006800);
    if (locale === "zh-CN") assert.equal(await tid(page, "confirm-words").textContent(), "贰拾万零陆拾捌元整");
    await shot(page, `cashier-${locale}-02-confirm`);
    await axeCheck(page, `${locale} confirm the amount`);
    await tid(page, "cancel-held").click();
    assert.equal(minor(await tid(page, "amount").textContent()), 0, "cancelled: nothing kept");
    await keypad(page, 20006800);
    await card(page, CARD);
    await tid(page, "charge").click();
    await tid(page, "confirm-held").click();
    await tid(page, "result").waitFor();
    assert.equal(await tid(page, "result").getAttribute("data-status"), "approved");

    // The host saw exactly the two amounts typed: ¥68.00 and ¥200 068.00, nothing appended.
    const journal = await page.evaluate(() => document.querySelector("softpos-terminal").terminal.journal());
    const approved = journal.filter((e) => e.kind === "sale" && e.status === "approved").map((e) => e.amount);
    assert.deepEqual(approved, [6800, 20006800]);
    const key = await terminalKey(page, t1);
    const hostSide = await hostTotals(host.url, key, "01", host.operatorPassword);
    assert.deepEqual([hostSide.sale.count, hostSide.sale.amount], [2, 6800 + 20006800]);
    await context.close();
  });

  test(`r6 r7 r17 refusals name what was wrong (${locale})`, async () => {
    // An activation code already used, typed in another browser.
    const first = await browser.newContext({ locale });
    const page = await counter(first, host, locale, t2);
    const other = await browser.newContext({ locale });
    const stranger = await openPage(other, `${host.url}/pos.html?locale=${locale}&terminal=${t2}`);
    await tid(stranger, "activation-code").fill(host.codes[t2]);
    await tid(stranger, "activate").click();
    await page.waitForTimeout(0);
    await stranger.waitForFunction(() => document.querySelector('[data-testid="error"]')?.textContent);
    assert.equal(await tid(stranger, "error").textContent(), text.usedCode);
    await other.close();

    // A declined card: the response code in the page's language, from the terminal's table.
    await keypad(page, 500);
    await card(page, DECLINED_CARD);
    await tid(page, "charge").click();
    await tid(page, "result").waitFor();
    const status = await tid(page, "status").textContent();
    assert.ok(status.includes("05"), status);
    if (locale === "zh-CN") assert.ok(!/[A-Za-z]{3}/.test(status), `no English on the zh page: ${status}`);

    // A wrong supervisor password on a void.
    await keypad(page, 1500);
    await card(page, CARD);
    await tid(page, "charge").click();
    await tid(page, "result").waitFor();
    const trace = Number(await tid(page, "trace").textContent());
    const rrn = await tid(page, "rrn").textContent();
    await tid(page, "tab-journal").click();
    await tid(page, `void-${trace}`).click();
    await tid(page, "void-supervisor").fill("not-the-password");
    await tid(page, "void-confirm").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="error"]')?.textContent);
    assert.equal(await tid(page, "error").textContent(), text.wrongSupervisor);

    // No supervisor password at all on a refund of the sale, picked from the batch's list.
    await tid(page, "tab-refund").click();
    await tid(page, "find-query").fill(String(trace));
    await tid(page, "find").click();
    await tid(page, "found-local").locator('[data-action="pick"]').first().click();
    await keypad(page, 100);
    await tid(page, "refund-submit").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="error"]')?.textContent);
    assert.equal(await tid(page, "error").textContent(), text.enterSupervisor);
    await shot(page, `cashier-${locale}-03-refund-refused`);
    await axeCheck(page, `${locale} refund refused`);
    // The refund, with the password: the picked sale stayed, the amount is keyed again.
    await tid(page, "picked").waitFor();
    await keypad(page, 100);
    await tid(page, "refund-supervisor").fill(host.supervisorPassword);
    await tid(page, "refund-submit").click();
    await tid(page, "result").waitFor();
    assert.equal(await tid(page, "result").getAttribute("data-status"), "approved");
    assert.equal(minor(await tid(page, "result").locator(".sp-big").textContent()), 100);

    // Settled, the sale is history: the refund tab finds it on the host by its RRN (the card's
    // last four would list this merchant's other counters' sales too), with what is left.
    await tid(page, "settle").click();
    await tid(page, "slip").waitFor();
    await tid(page, "tab-refund").click();
    await tid(page, "find-query").fill(rrn);
    await tid(page, "find").click();
    const earlier = tid(page, "found-history");
    await earlier.waitFor();
    assert.equal(await tid(page, "found-local").locator('[data-action="pick"]').count(), 0, "the new batch is empty");
    const picks = earlier.locator('[data-action="pick"]');
    assert.equal(await picks.count(), 1, "the sale, with something left to refund");
    assert.ok((await picks.first().textContent()).includes(locale === "en" ? "Refundable ¥14.00" : "可退金额 ¥14.00"));
    await picks.first().click();
    await keypad(page, 1400);
    await tid(page, "refund-supervisor").fill(host.supervisorPassword);
    await tid(page, "refund-submit").click();
    await tid(page, "result").waitFor();
    assert.equal(await tid(page, "result").getAttribute("data-status"), "approved");
    await shot(page, `cashier-${locale}-06-refund-of-history`);
    await tid(page, "tab-refund").click();
    await tid(page, "find").click();
    await tid(page, "found-history").waitFor();
    await axeCheck(page, `${locale} refund lists`);
    await first.close();
  });

  test(`r1 a whole sale by keyboard alone (${locale})`, async () => {
    const context = await browser.newContext({ locale });
    const page = await openPage(context, `${host.url}/pos.html?locale=${locale}&terminal=${t3}`);
    await tid(page, "activation-code").waitFor();
    assert.equal(await focused(page), "activation-code");
    await page.keyboard.type(host.codes[t3]);
    await page.keyboard.press("Enter");
    await tid(page, "operator").waitFor();
    await page.waitForFunction(() => document.activeElement?.dataset.testid === "operator");
    await page.keyboard.type("01");
    await page.keyboard.press("Tab");
    await page.keyboard.type(host.operatorPassword);
    await page.keyboard.press("Enter");
    await tid(page, "charge").waitFor();
    await page.waitForFunction(() => document.activeElement?.dataset.testid === "amount");
    await page.keyboard.type("12345");
    await page.keyboard.press("Backspace");
    assert.equal(minor(await tid(page, "amount").textContent()), 1234);
    // The keypad is one tab stop; the arrows walk it.
    await page.keyboard.press("Tab");
    assert.equal(await focused(page), "1");
    await page.keyboard.press("ArrowRight");
    assert.equal(await focused(page), "2");
    await page.keyboard.press("Tab");
    assert.equal(await focused(page), "pan");
    await page.keyboard.type(CARD);
    await page.keyboard.press("Tab");
    await page.keyboard.type(EXPIRY);
    await page.keyboard.press("Enter");
    await tid(page, "result").waitFor();
    assert.equal(await tid(page, "result").getAttribute("data-status"), "approved");
    assert.equal(minor(await tid(page, "result").locator(".sp-big").textContent()), 1234);
    // The journal shows the sale at the host's wall clock (the demo host runs UTC+8), not UTC.
    const [entry] = await page.evaluate(() => document.querySelector("softpos-terminal").terminal.journal());
    const local = new Date(Date.parse(entry.at) + 8 * 3600e3).toISOString();
    await tid(page, "tab-journal").click();
    assert.equal(await tid(page, `at-${entry.traceNo}`).textContent(), `${local.slice(0, 10)} ${local.slice(11, 19)}`);
    await tid(page, "tab-sale").click();
    await tid(page, "amount").focus();
    // Back on the amount, not on settle or sign-off; Esc clears what is typed.
    await page.waitForFunction(() => document.activeElement?.dataset.testid === "amount");
    await page.keyboard.type("99");
    await page.keyboard.press("Escape");
    assert.equal(minor(await tid(page, "amount").textContent()), 0);
    // Digits typed with nothing focused still reach the amount.
    await page.evaluate(() => document.activeElement?.blur());
    await page.keyboard.type("42");
    assert.equal(minor(await tid(page, "amount").textContent()), 42);
    await shot(page, `cashier-${locale}-04-keyboard`);
    assert.deepEqual(page.errors, []);
    await context.close();
  });
}

test("r8 a stopped host: each failure says whether the customer was charged (zh-CN and en)", async () => {
  // A host of its own, stopped halfway: per language one counter signed in and selling, and
  // one only activated, which then tries to sign in.
  const own = await startHost([...TERMINALS["zh-CN"].slice(3), ...TERMINALS.en.slice(3)]);
  const pages = {};
  for (const locale of ["zh-CN", "en"]) {
    const [selling, idle] = TERMINALS[locale].slice(3);
    const context = await browser.newContext({ locale });
    const page = await counter(context, own, locale, selling);
    const other = await openPage(context, `${own.url}/pos.html?locale=${locale}&terminal=${idle}`);
    await tid(other, "activation-code").fill(own.codes[idle]);
    await tid(other, "activate").click();
    await tid(other, "operator").waitFor();
    pages[locale] = { context, page, other };
  }
  await own.stop();
  for (const locale of ["zh-CN", "en"]) {
    const { context, page, other } = pages[locale];
    const text = TEXT[locale];
    await keypad(page, 1000);
    await card(page, CARD);
    await tid(page, "charge").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="error"]')?.textContent);
    assert.equal(await tid(page, "error").textContent(), text.lostSale, locale);
    await tid(page, "pending-reversals").waitFor();
    await keypad(page, 1000);
    await card(page, CARD);
    await tid(page, "charge").click();
    await page.waitForFunction((t) => document.querySelector('[data-testid="error"]')?.textContent.startsWith(t), text.stillPending);
    assert.match(await tid(page, "error").textContent(), /1\)$/, locale);
    await shot(page, `cashier-${locale}-05-reversal-pending`);
    await axeCheck(page, `${locale} reversal pending`);
    // A sign-in is the first thing a terminal sends: nothing reached the host.
    await tid(other, "operator").fill("01");
    await tid(other, "password").fill(own.operatorPassword);
    await tid(other, "sign-in").click();
    await other.waitForFunction(() => document.querySelector('[data-testid="error"]')?.textContent);
    assert.equal(await tid(other, "error").textContent(), text.unreachable, locale);
    await context.close();
  }
});
