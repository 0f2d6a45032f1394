// R21 slips and reports at the counter, in zh-CN and en, in real Chromium against a real host:
// a sale's slip in two copies (the merchant's with the signature line), a reprint that says
// so, the X report, the settlement slip and the settled batches' history, each printed with
// print media and shot for docs/screens (SOFTPOS_SCREENS=docs/screens).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { SCREENS, signIn, minor, tid, startHost, launch, openPage, axeCheck, CARD, EXPIRY, MERCHANT } from "./lib.mjs";

const DEMO_NAME = "示例茶叶店 Demo Tea Shop";
const TERMINALS = { "zh-CN": "10000061", en: "10000062" };
const PAPER = { "zh-CN": "58mm", en: "80mm" };
const TEXT = {
  "zh-CN": {
    merchantCopy: "商户存根 MERCHANT COPY", cardholderCopy: "持卡人存根 CARDHOLDER COPY",
    reprint: "重打印 REPRINT", sale: "消费", visa: "Visa", noSlip: "本批次没有这笔交易", balanced: "对账平",
  },
  en: {
    merchantCopy: "MERCHANT COPY", cardholderCopy: "CARDHOLDER COPY",
    reprint: "REPRINT", sale: "Sale", visa: "Visa", noSlip: "No such transaction in this batch", balanced: "Balanced",
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

/** The element as printed: print media, then back to the screen. */
async function printShot(page, testId, name) {
  mkdirSync(SCREENS, { recursive: true });
  await page.emulateMedia({ media: "print" });
  const el = page.locator(`[data-testid="paper"] [data-testid="${testId}"]`);
  assert.ok(await el.isVisible(), `${testId} shows in print`);
  await el.screenshot({ path: join(SCREENS, `${name}.png`) });
  await page.emulateMedia({ media: "screen" });
  assert.equal(await el.isVisible(), false, `${testId} is hidden on screen`);
}

const printed = (page) => page.evaluate(() => window.printed);
const paper = (page, id) => page.locator(`[data-testid="paper"] [data-testid="${id}"]`);

/** Focuses a widget button and presses Enter, as a cashier at a keyboard does. */
async function press(page, id) {
  await tid(page, id).focus();
  await page.keyboard.press("Enter");
}

test("r21 slips, reprints, the X report, the settlement slip and the history print (zh-CN)", () => printAll("zh-CN"));
test("r21 slips, reprints, the X report, the settlement slip and the history print (en)", () => printAll("en"));

/** A sale printed, reprinted, the X report, a settlement and its reprint from the history. */
async function printAll(locale) {
  const text = TEXT[locale];
  const terminal = TERMINALS[locale];
  const size = PAPER[locale];
  {
    const context = await browser.newContext({ locale });
    // The print dialog is the browser's: counted instead of opened.
    await context.addInitScript(() => {
      window.printed = 0;
      window.print = () => { window.printed += 1; };
    });
    const page = await openPage(context, `${host.url}/pos.html?locale=${locale}&terminal=${terminal}&paper=${size}`);
    await tid(page, "activation-code").fill(host.codes[terminal]);
    await tid(page, "activate").click();
    await signIn(page, host);
    const api = () => page.evaluate(() => {
      const t = document.querySelector("softpos-terminal").terminal;
      return { name: t.merchantName, slip: t.slip(), kept: t.settledBatches() };
    });
    assert.equal((await api()).name, DEMO_NAME, "the host's merchant name, from sign-in");
    assert.equal((await api()).slip, null, "no transaction, no slip");

    // A sale keyed at the keyboard: the amount, the card, Enter.
    await tid(page, "amount").focus();
    await page.keyboard.type("12800");
    await tid(page, "pan").fill(CARD);
    await tid(page, "expiry").fill(EXPIRY);
    await page.keyboard.press("Enter");
    await tid(page, "result").waitFor();
    const rrn = await tid(page, "rrn").textContent();
    await press(page, "print-slip");
    assert.equal(await printed(page), 1);
    assert.equal(await tid(page, "paper").getAttribute("data-paper"), size);
    for (const copy of ["copy-merchant", "copy-cardholder"]) {
      const slip = await paper(page, copy).textContent();
      for (const want of [DEMO_NAME, MERCHANT, terminal, "01", "411111******1111", text.visa, text.sale,
        "000001", rrn]) {
        assert.ok(slip.includes(want), `${copy} shows ${want}: ${slip}`);
      }
      assert.equal(minor(await paper(page, copy).getByTestId("slip-amount").textContent()), 12800);
      assert.match(slip, /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/, "local date and time");
      assert.ok(!slip.includes(text.reprint), "the first print is no reprint");
    }
    assert.equal(await paper(page, "copy-merchant").getByTestId("copy-name").textContent(), text.merchantCopy);
    assert.equal(await paper(page, "copy-cardholder").getByTestId("copy-name").textContent(), text.cardholderCopy);
    assert.equal(await paper(page, "copy-merchant").getByTestId("signature").count(), 1, "the merchant signs");
    assert.equal(await paper(page, "copy-cardholder").getByTestId("signature").count(), 0);
    await printShot(page, "copy-merchant", `${locale}-slip-${size}-merchant`);
    await printShot(page, "copy-cardholder", `${locale}-slip-${size}-cardholder`);
    await axeCheck(page, `${locale} slip printed`);

    // Reprint [重打印]: by trace number, or the last one with the box left empty.
    await tid(page, "tab-journal").click();
    await tid(page, "reprint-trace").focus();
    await page.keyboard.type("1");
    await page.keyboard.press("Enter");
    assert.equal(await printed(page), 2);
    assert.equal(await paper(page, "copy-merchant").getByTestId("reprint-mark").textContent(), text.reprint);
    assert.ok((await paper(page, "copy-cardholder").textContent()).includes(text.reprint));
    await printShot(page, "copy-merchant", `${locale}-slip-reprint`);
    await tid(page, "reprint-trace").fill("999");
    await tid(page, "reprint-trace").press("Enter");
    assert.equal(await tid(page, "error").textContent(), text.noSlip);
    assert.equal(await printed(page), 2, "nothing to print, no dialog");
    await tid(page, "reprint-trace").fill("");
    await tid(page, "reprint-trace").press("Enter");
    assert.equal(await printed(page), 3);
    assert.ok((await paper(page, "copy-merchant").textContent()).includes("000001"), "the last slip");
    assert.equal((await api()).slip.traceNo, 1);

    // The X report [交易汇总]: the open batch by type.
    await tid(page, "tab-totals").click();
    // The host's list of settled batches redraws the tab when it comes: a click landing on
    // the button that redraw replaces would be lost, so wait for it.
    await page.locator('[data-testid="history"][aria-busy="false"]').waitFor();
    await press(page, "print-x");
    assert.equal(await printed(page), 4);
    assert.equal(minor(await paper(page, "x-report").getByTestId("sale-amount").textContent()), 12800);
    assert.equal(minor(await paper(page, "x-report").getByTestId("net-amount").textContent()), 12800);
    await printShot(page, "x-report", `${locale}-x-report`);

    // The settlement slip [结算单]: both sides' totals, the outcome.
    await press(page, "settle");
    await tid(page, "slip").waitFor();
    await press(page, "print-settlement");
    assert.equal(await printed(page), 5);
    const settlement = paper(page, "settlement");
    assert.equal(await settlement.getByTestId("paper-outcome").getAttribute("data-outcome"), "balanced");
    assert.equal(await settlement.getByTestId("net-amount").count(), 2, "the terminal's and the host's totals");
    await printShot(page, "settlement", `${locale}-settlement-slip`);

    // The history of settled batches (Z reports): kept here and served by the host.
    await tid(page, "tab-totals").click();
    await tid(page, "reprint-z-1").waitFor();
    const history = await page.evaluate(() => document.querySelector("softpos-terminal").terminal.settlementHistory());
    assert.deepEqual(history.map((b) => [b.batchNo, b.outcome, b.discrepancyCount, b.hostTotals.netAmount]),
      [[1, "balanced", 0, 12800]]);
    assert.equal((await api()).kept.length, 1);
    await press(page, "reprint-z-1");
    assert.equal(await printed(page), 6);
    assert.equal(await paper(page, "settlement").getByTestId("reprint-mark").textContent(), text.reprint);
    assert.ok((await paper(page, "settlement").textContent()).includes(text.balanced));
    await printShot(page, "settlement", `${locale}-settlement-reprint`);
    assert.deepEqual(page.errors, []);
    await context.close();
  }
}
