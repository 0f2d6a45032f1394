// R20 and R21 at a hotel's front desk, in zh-CN and en, in real Chromium against a real host,
// through the widget alone and at the keyboard only (Tab to each control, Enter, figures and
// words typed; no click): two holds of 1 000.00 (a UnionPay card
// and a Visa), the first completed at 110 %, the second refused at 120 % with nothing sent and
// completed at 100 %, that completion voided with the supervisor, a third hold released, a
// sale, a completion's slip reprinted, the X report, the totals with their completion line and
// domestic and foreign halves against the host's, a balanced settlement and its slip, sign off.
// Each slip is printed with print media and shot for docs/screens
// (SOFTPOS_SCREENS=docs/screens node --test tests/e2e/hotel-day.test.mjs).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  SCREENS, minor, tid, startHost, launch, openPage, axeCheck, wideElements, terminalKey, hostTotals, CARD, EXPIRY,
} from "./lib.mjs";

const UNIONPAY = "6212345678901232";
const TERMINALS = { "zh-CN": "10000071", en: "10000072" };
const PAPER = { "zh-CN": "58mm", en: "80mm" };
const TEXT = {
  "zh-CN": {
    invalidAmount: "金额无效", reprint: "重打印 REPRINT", preauth: "预授权", completion: "预授权完成",
    completionVoid: "预授权完成撤销", preauthVoid: "预授权撤销", unionpay: "银联", domestic: "内卡", foreign: "外卡",
    sessionExpired: "会话已结束，请重新签到", balanced: "对账平",
  },
  en: {
    invalidAmount: "Invalid amount", reprint: "REPRINT", preauth: "Pre-authorisation",
    completion: "Pre-authorisation completion", completionVoid: "Completion void",
    preauthVoid: "Pre-authorisation void", unionpay: "UnionPay", domestic: "Domestic cards (UnionPay)",
    foreign: "Foreign cards", sessionExpired: "The session has ended; please sign in again", balanced: "Balanced",
  },
};

let host;
let browser;

before(async () => {
  host = await startHost(Object.values(TERMINALS));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await host?.stop();
});

const printed = (page) => page.evaluate(() => window.printed);
const paper = (page, id) => page.locator(`[data-testid="paper"] [data-testid="${id}"]`);

/** The element as printed: print media, then back to the screen. */
async function printShot(page, testId, name) {
  mkdirSync(SCREENS, { recursive: true });
  await page.emulateMedia({ media: "print" });
  const el = paper(page, testId);
  assert.ok(await el.isVisible(), `${testId} shows in print`);
  await el.screenshot({ path: join(SCREENS, `${name}.png`) });
  await page.emulateMedia({ media: "screen" });
}

/** The `data-testid` of the element with the focus, inside the widget too. */
const focused = (page) => page.evaluate(() => {
  let el = document.activeElement;
  while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
  return el?.dataset?.testid ?? el?.tagName;
});

/** Keys as a cashier presses them: "Tab" and "Enter" pressed, anything else typed. */
async function keys(page, ...seq) {
  for (const k of seq) {
    if (k === "Tab" || k === "Enter") await page.keyboard.press(k);
    else await page.keyboard.type(k);
  }
}

/** The focus moved on with Tab (as a cashier does, never a click) until it is on `id`. */
async function tabTo(page, id) {
  for (let i = 0; i < 40 && (await focused(page)) !== id; i++) await page.keyboard.press("Tab");
  assert.equal(await focused(page), id, `Tab reaches ${id}`);
}

/** Tab to a widget button, then Enter. */
async function press(page, id) {
  await tabTo(page, id);
  await page.keyboard.press("Enter");
}

/** The answer on screen once it is there: status, trace, RRN, auth code. */
async function answer(page) {
  const result = tid(page, "result");
  await result.waitFor();
  const text = async (id) => ((await tid(page, id).count()) ? tid(page, id).textContent() : null);
  return {
    status: await result.getAttribute("data-status"),
    trace: Number(await tid(page, "trace").textContent()),
    rrn: await text("rrn"),
    auth: await text("auth-code"),
    amount: minor(await result.locator(".sp-big").textContent()),
  };
}

/** A pre-authorisation form chosen on the tab, at the keyboard; the focus on its first field. */
async function chooseOp(page, op, first) {
  await press(page, "tab-preauth");
  await press(page, `op-${op}`);
  await tid(page, "preauth-form").waitFor();
  assert.equal(await focused(page), first, `${op} starts at ${first}`);
}

async function hold(page, amount, pan) {
  await chooseOp(page, "preauth", "amount");
  await keys(page, String(amount), "Enter");
  assert.equal(await focused(page), "pan", "Enter on the amount moves to the card");
  await keys(page, pan, "Tab", EXPIRY, "Enter");
  return answer(page);
}

async function complete(page, held, amount, pan) {
  await chooseOp(page, "complete", "preauth-rrn");
  await keys(page, held.rrn, "Tab", held.auth, "Tab");
  assert.equal(await focused(page), "amount", "Tab from the auth code reaches the amount");
  await keys(page, String(amount), "Enter", pan, "Tab", EXPIRY, "Enter");
}

test("r20 r21 a hotel's day at the front desk (zh-CN)", () => hotelDay("zh-CN"));
test("r20 r21 a hotel's day at the front desk (en)", () => hotelDay("en"));

async function hotelDay(locale) {
  const text = TEXT[locale];
  const terminal = TERMINALS[locale];
  const size = PAPER[locale];
  const context = await browser.newContext({ locale });
  // The print dialog is the browser's: counted instead of opened.
  await context.addInitScript(() => {
    window.printed = 0;
    window.print = () => { window.printed += 1; };
  });
  const page = await openPage(context, `${host.url}/pos.html?locale=${locale}&terminal=${terminal}&paper=${size}`);
  const sent = [];
  page.on("request", (r) => new URL(r.url()).pathname.startsWith("/v1/") && sent.push(r.url()));

  // Activation and sign-in: each screen's first field has the focus.
  await tid(page, "activation-code").waitFor();
  assert.equal(await focused(page), "activation-code");
  await keys(page, host.codes[terminal], "Enter");
  const signIn = async () => {
    await tid(page, "operator").waitFor();
    assert.equal(await focused(page), "operator");
    await keys(page, "01", "Tab", host.operatorPassword, "Enter");
    await tid(page, "charge").waitFor();
  };
  await signIn();

  // The pre-authorisation tab on a phone, the hold keyed (zh-CN): it fits the screen.
  if (locale === "zh-CN") {
    const desk = page.viewportSize();
    await page.setViewportSize({ width: 390, height: 844 });
    await chooseOp(page, "preauth", "amount");
    await keys(page, "100000", "Enter", UNIONPAY, "Tab", EXPIRY);
    // The card field's hint names the scheme in the cashier's language.
    const hint = await page.locator('[data-hint="pan"]').first().textContent();
    assert.ok(hint.includes(text.unionpay), `the card hint says ${text.unionpay}: ${hint}`);
    assert.deepEqual(await wideElements(page), [], "nothing wider than the phone");
    await axeCheck(page, "pre-auth tab on a phone");
    mkdirSync(SCREENS, { recursive: true });
    await page.screenshot({ path: join(SCREENS, `${locale}-390-preauth.png`) });
    await page.keyboard.press("Escape");
    await page.setViewportSize(desk);
  }

  // Two holds of 1 000.00: a UnionPay card and a Visa. Holds count in no total.
  const a = await hold(page, 100000, UNIONPAY);
  assert.deepEqual([a.status, a.amount], ["approved", 100000]);
  assert.match(a.rrn, /^\d{12}$/);
  assert.match(a.auth, /^[0-9A-Z]{6}$/);
  await press(page, "print-slip");
  assert.equal(await printed(page), 1);
  {
    const slip = await paper(page, "copy-merchant").textContent();
    for (const want of [text.preauth, text.unionpay, "621234******1232", a.rrn, a.auth]) {
      assert.ok(slip.includes(want), `the hold's slip shows ${want}: ${slip}`);
    }
    assert.equal(minor(await paper(page, "copy-merchant").getByTestId("slip-amount").textContent()), 100000);
  }
  await printShot(page, "copy-merchant", `${locale}-slip-preauth`);
  const b = await hold(page, 100000, CARD);
  assert.equal(b.status, "approved");

  // The first completed at 110 %.
  await complete(page, a, 110000, UNIONPAY);
  const doneA = await answer(page);
  assert.deepEqual([doneA.status, doneA.amount, doneA.trace], ["approved", 110000, b.trace + 1]);
  await press(page, "print-slip");
  assert.equal(await printed(page), 2);
  {
    const slip = await paper(page, "copy-merchant").textContent();
    for (const want of [text.completion, text.unionpay, doneA.rrn]) {
      assert.ok(slip.includes(want), `the completion's slip shows ${want}: ${slip}`);
    }
    assert.ok(!slip.includes(text.reprint));
  }
  await printShot(page, "copy-merchant", `${locale}-slip-completion`);

  // The second at 120 %: over 115 %, refused by the terminal with nothing sent.
  const before = sent.length;
  await complete(page, b, 120000, CARD);
  // The widget's alert once it says something.
  const alert = tid(page, "error");
  for (let i = 0; i < 50 && !(await alert.textContent()); i++) await page.waitForTimeout(100);
  const refusal = await alert.textContent();
  assert.ok(refusal.includes(text.invalidAmount), `INVALID_AMOUNT's words: ${refusal}`);
  if (locale === "en") assert.ok(refusal.includes("115000"), `the limit is named: ${refusal}`);
  assert.equal(await tid(page, "result").count(), 0, "no answer, nothing booked");
  assert.deepEqual(sent.slice(before), [], "nothing sent");

  // The second completed at 100 %, then that completion voided with the supervisor.
  await complete(page, b, 100000, CARD);
  const doneB = await answer(page);
  assert.deepEqual([doneB.status, doneB.amount, doneB.trace], ["approved", 100000, doneA.trace + 1],
    "the refused one took no trace number");
  await chooseOp(page, "completion-void", "preauth-trace");
  await keys(page, String(doneB.trace), "Tab", host.supervisorPassword, "Enter");
  const voidB = await answer(page);
  assert.deepEqual([voidB.status, voidB.amount], ["approved", 100000]);

  // A third hold, released with the supervisor for the whole amount held.
  const c = await hold(page, 30000, UNIONPAY);
  assert.equal(c.status, "approved");
  await chooseOp(page, "preauth-void", "preauth-rrn");
  await keys(page, c.rrn, "Tab", c.auth, "Tab", "30000", "Enter");
  assert.equal(await focused(page), "preauth-supervisor", "Enter on the held amount moves to the supervisor");
  await keys(page, host.supervisorPassword, "Enter");
  const released = await answer(page);
  assert.deepEqual([released.status, released.amount], ["approved", 30000]);

  // A sale on the UnionPay card.
  // The focus stays on the tab; the digits typed take it to the amount, so Enter goes on to the card.
  await press(page, "tab-sale");
  await keys(page, "25000");
  assert.equal(await focused(page), "amount", "the focus follows the digits");
  await keys(page, "Enter", UNIONPAY, "Tab", EXPIRY, "Enter");
  const sold = await answer(page);
  assert.deepEqual([sold.status, sold.amount], ["approved", 25000]);

  // The journal names the kinds; the first completion's slip reprinted by its trace number.
  await press(page, "tab-journal");
  const journal = await tid(page, "journal").textContent();
  for (const want of [text.preauth, text.completion, text.completionVoid, text.preauthVoid]) {
    assert.ok(journal.includes(want), `the journal shows ${want}`);
  }
  await tabTo(page, "reprint-trace");
  await keys(page, String(doneA.trace), "Enter");
  assert.equal(await printed(page), 3);
  assert.equal(await paper(page, "copy-merchant").getByTestId("reprint-mark").textContent(), text.reprint);
  {
    const slip = await paper(page, "copy-merchant").textContent();
    assert.ok(slip.includes(text.completion) && slip.includes(doneA.rrn), slip);
    assert.equal(minor(await paper(page, "copy-merchant").getByTestId("slip-amount").textContent()), 110000);
  }
  await printShot(page, "copy-merchant", `${locale}-slip-completion-reprint`);

  // The totals: the completion line and the two halves, as booked.
  const want = {
    "sale-count": 1, "sale-amount": 25000, "completion-count": 2, "completion-amount": 210000,
    "void-count": 1, "void-amount": 100000, "refund-count": 0, "refund-amount": 0, "net-amount": 135000,
    "domestic-sale-count": 1, "domestic-sale-amount": 25000, "domestic-completion-count": 1,
    "domestic-completion-amount": 110000, "domestic-void-count": 0, "domestic-void-amount": 0,
    "domestic-net-amount": 135000,
    "foreign-sale-count": 0, "foreign-sale-amount": 0, "foreign-completion-count": 1,
    "foreign-completion-amount": 100000, "foreign-void-count": 1, "foreign-void-amount": 100000,
    "foreign-net-amount": 0,
  };
  const read = async (scope) => {
    const got = {};
    for (const id of Object.keys(want)) got[id] = minor(await scope.getByTestId(id).textContent());
    return got;
  };
  await press(page, "tab-totals");
  const totals = tid(page, "totals");
  assert.deepEqual(await read(totals), want, "the totals tab");
  const shown = await totals.textContent();
  assert.ok(shown.includes(text.domestic) && shown.includes(text.foreign), "the halves are named");

  // The X report prints the same.
  await press(page, "print-x");
  assert.equal(await printed(page), 4);
  assert.deepEqual(await read(paper(page, "x-report")), want, "the X report");
  await printShot(page, "x-report", `${locale}-x-report-hotel`);

  // The host's own count of the batch, through a second session of this terminal.
  const key = await terminalKey(page, terminal);
  const h = await hostTotals(host.url, key, "01", host.operatorPassword);
  assert.deepEqual({
    "sale-count": h.sale.count, "sale-amount": h.sale.amount,
    "completion-count": h.completion.count, "completion-amount": h.completion.amount,
    "void-count": h.void.count, "void-amount": h.void.amount,
    "refund-count": h.refund.count, "refund-amount": h.refund.amount, "net-amount": h.net_amount,
    "domestic-sale-count": h.domestic.sale.count, "domestic-sale-amount": h.domestic.sale.amount,
    "domestic-completion-count": h.domestic.completion.count,
    "domestic-completion-amount": h.domestic.completion.amount,
    "domestic-void-count": h.domestic.void.count, "domestic-void-amount": h.domestic.void.amount,
    "domestic-net-amount": h.domestic.net_amount,
    "foreign-sale-count": h.foreign.sale.count, "foreign-sale-amount": h.foreign.sale.amount,
    "foreign-completion-count": h.foreign.completion.count,
    "foreign-completion-amount": h.foreign.completion.amount,
    "foreign-void-count": h.foreign.void.count, "foreign-void-amount": h.foreign.void.amount,
    "foreign-net-amount": h.foreign.net_amount,
  }, want, "the host's totals");

  // That second session ended the desk's: sign in again, settle, print the settlement slip.
  await press(page, "settle");
  await tid(page, "operator").waitFor();
  assert.equal(await tid(page, "error").textContent(), text.sessionExpired);
  await signIn();
  await press(page, "settle");
  await tid(page, "slip").waitFor();
  assert.equal(await tid(page, "slip").getAttribute("data-outcome"), "balanced");
  assert.ok((await tid(page, "slip").textContent()).includes(text.balanced));
  await press(page, "print-settlement");
  assert.equal(await printed(page), 5);
  const settlement = paper(page, "settlement");
  assert.equal(await settlement.getByTestId("paper-outcome").getAttribute("data-outcome"), "balanced");
  for (const [id, amount] of Object.entries(want)) {
    const both = await settlement.getByTestId(id).allTextContents();
    assert.deepEqual(both.map(minor), [amount, amount], `${id} on both sides of the settlement slip`);
  }
  const onPaper = await settlement.textContent();
  assert.ok(onPaper.includes(text.domestic) && onPaper.includes(text.foreign), "the slip names the halves");
  await printShot(page, "settlement", `${locale}-settlement-slip-hotel`);

  await press(page, "sign-off");
  await tid(page, "operator").waitFor();
  // The one 401 is the settlement refused after the host's second session ended the desk's.
  assert.deepEqual(page.errors.filter((e) => !/status of 401/.test(e)), []);
  assert.ok(page.errors.length <= 1, page.errors.join("\n"));
  await context.close();
}
