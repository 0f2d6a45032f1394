// R21 and R20 at the counter, the transaction query [查询], in zh-CN and en, in real Chromium
// against a real host: one box finds the open batch's transactions (from the journal) and the
// earlier batches' sales (the host's sales lookup) by trace number, RRN, amount or the card's
// last four digits, and each row's action opens the form that does it, filled in.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { signIn, minor, tid, startHost, launch, openPage, keypad, sale, axeCheck, CARD, EXPIRY } from "./lib.mjs";

const MASTERCARD = "5555555555554444";
const TERMINALS = { "zh-CN": "10000071", en: "10000072" };
const TEXT = {
  "zh-CN": { tab: "查询", sale: "消费", void: "撤销", hold: "预授权", completion: "预授权完成", approved: "交易成功", voided: "已撤销", reprint: "重打印 REPRINT" },
  en: { tab: "Query", sale: "Sale", void: "Void", hold: "Pre-authorisation", completion: "Pre-authorisation completion", approved: "Approved", voided: "Voided", reprint: "REPRINT" },
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

test("r21 r20 the query finds by trace, RRN, amount and last four and opens the action (zh-CN)", () => day("zh-CN"));
test("r21 r20 the query finds by trace, RRN, amount and last four and opens the action (en)", () => day("en"));

/** Types a query in the box and presses Enter, at the keyboard; waits for the host's part. */
async function query(page, text) {
  await tid(page, "tab-query").click();
  await tid(page, "query-text").fill("");
  await tid(page, "query-text").focus();
  await page.keyboard.type(text);
  await page.keyboard.press("Enter");
  await tid(page, "query-history").waitFor();
}

/** The rows found: `[row id, its cells' text]`, in order. */
const rows = (page, section) => page.locator(`[data-testid="${section}"] tbody tr`).evaluateAll((trs) =>
  trs.map((tr) => [tr.dataset.testid, [...tr.querySelectorAll("td")].map((td) => td.textContent)]));
const actions = (page, row) => page.locator(`[data-testid="${row}"] button`).evaluateAll((bs) =>
  bs.map((b) => b.dataset.action));
const focused = (page) => page.evaluate(() => document.activeElement?.dataset?.testid ?? null);

async function day(locale) {
  const text = TEXT[locale];
  const terminal = TERMINALS[locale];
  const context = await browser.newContext({ locale });
  await context.addInitScript(() => {
    window.printed = 0;
    window.print = () => { window.printed += 1; };
  });
  const page = await openPage(context, `${host.url}/pos.html?locale=${locale}&terminal=${terminal}`);
  const urls = [];
  page.on("request", (r) => urls.push(r.url()));
  await tid(page, "activation-code").fill(host.codes[terminal]);
  await tid(page, "activate").click();
  await signIn(page, host);
  assert.equal(await tid(page, "tab-query").textContent(), text.tab);

  // Yesterday's batch: a sale of ¥12.50, settled. It lives on in the host's history only.
  const earlier = await sale(page, 1250);
  assert.equal(earlier.status, "approved");
  await tid(page, "settle").click();
  await tid(page, "slip").waitFor();

  // The open batch: a sale on a Mastercard, a hold, another sale of ¥12.50.
  const mc = await sale(page, 3400, MASTERCARD);
  await tid(page, "tab-preauth").click();
  await keypad(page, 5000);
  await tid(page, "pan").fill(CARD);
  await tid(page, "expiry").fill(EXPIRY);
  await tid(page, "preauth-submit").click();
  await tid(page, "result").waitFor();
  const hold = {
    trace: Number(await tid(page, "trace").textContent()),
    rrn: await tid(page, "rrn").textContent(),
    auth: await tid(page, "auth-code").textContent(),
  };
  const again = await sale(page, 1250);

  // By trace number: the Mastercard sale, with its void, refund and reprint, at the keyboard.
  await query(page, String(mc.trace));
  const byTrace = await rows(page, "query-local");
  assert.deepEqual(byTrace.map(([id]) => id), [`q-l${mc.trace}`]);
  const [, cells] = byTrace[0];
  assert.equal(cells[0], text.sale);
  assert.equal(cells[1], text.approved);
  assert.ok(cells[2].endsWith(String(mc.trace).padStart(6, "0")), cells[2]);
  assert.equal(cells[3], mc.rrn);
  assert.equal(minor(cells[4]), 3400);
  assert.equal(cells[5], "555555******4444");
  assert.match(cells[6], /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  assert.deepEqual(await actions(page, `q-l${mc.trace}`), ["q-void", "q-refund", "q-reprint"]);
  assert.equal(await focused(page), `q-void-l${mc.trace}`, "Enter searched; the first action has the focus");
  await page.keyboard.press("Tab");
  assert.equal(await focused(page), `q-refund-l${mc.trace}`);
  await page.keyboard.press("Tab");
  assert.equal(await focused(page), `q-reprint-l${mc.trace}`);
  // Reprint: the open batch's slip, marked.
  await page.keyboard.press("Enter");
  assert.equal(await page.evaluate(() => window.printed), 1);
  assert.equal(await tid(page, "copy-merchant").getByTestId("reprint-mark").textContent(), text.reprint);
  assert.ok((await tid(page, "copy-merchant").textContent()).includes(mc.rrn));
  await axeCheck(page, `${locale} query by trace`);
  // Void: the journal's own, asking for the supervisor.
  await tid(page, `q-void-l${mc.trace}`).focus();
  await page.keyboard.press("Enter");
  assert.equal(await tid(page, "tab-journal").getAttribute("aria-selected"), "true");
  assert.equal(await focused(page), "void-supervisor");
  await page.keyboard.type(host.supervisorPassword);
  await page.keyboard.press("Enter");
  await tid(page, "result").waitFor();
  assert.equal(await tid(page, "result").getAttribute("data-status"), "approved");

  // By the last four: the void (newest first) and the sale, now voided, offering only reprints.
  await query(page, "4444");
  const byLast4 = await rows(page, "query-local");
  assert.deepEqual(byLast4.map(([, c]) => [c[0], c[1], minor(c[4])]),
    [[text.void, text.approved, 3400], [text.sale, text.voided, 3400]]);
  assert.equal(byLast4[1][0], `q-l${mc.trace}`);
  assert.deepEqual(await actions(page, `q-l${mc.trace}`), ["q-reprint"]);
  assert.deepEqual(await actions(page, byLast4[0][0]), ["q-reprint"]);
  // The host lists the merchant's sales of every terminal but this batch's (the journal's).
  assert.ok(!(await rows(page, "query-history")).some(([, c]) => c[3] === mc.rrn), "this batch's sale once");

  // By amount: ¥12.50 in this batch and in the earlier one, in minor units.
  await query(page, "12.50");
  assert.deepEqual((await rows(page, "query-local")).map(([id]) => id), [`q-l${again.trace}`]);
  // The other locale's counter (the same merchant) sold ¥12.50 too.
  const fromHistory = (await rows(page, "query-history")).filter(([, c]) => c[3] === earlier.rrn);
  assert.equal(fromHistory.length, 1);
  assert.ok((await rows(page, "query-history")).every(([, c]) => minor(c[4]) === 1250));
  assert.equal(minor(fromHistory[0][1][4]), 1250);
  assert.equal(fromHistory[0][1][5], "411111******1111");
  assert.equal(await focused(page), `q-void-l${again.trace}`);
  assert.deepEqual(await actions(page, fromHistory[0][0]), ["q-refund"], "an earlier batch: refund only");

  // By RRN: the earlier sale; its refund opens the refund tab with the sale picked.
  await query(page, earlier.rrn);
  assert.deepEqual(await rows(page, "query-local"), []);
  const [[historyRow]] = await rows(page, "query-history");
  await tid(page, `q-refund-${historyRow.slice(2)}`).click();
  assert.equal(await tid(page, "tab-refund").getAttribute("aria-selected"), "true");
  assert.ok((await tid(page, "picked").textContent()).includes(earlier.rrn));
  assert.equal(await focused(page), "amount");
  await page.keyboard.type("500");
  await tid(page, "refund-supervisor").fill(host.supervisorPassword);
  await tid(page, "refund-submit").click();
  await tid(page, "result").waitFor();
  assert.equal(await tid(page, "result").getAttribute("data-status"), "approved");

  // The hold, by its RRN: complete it, the form filled with its RRN and auth code.
  await query(page, hold.rrn);
  assert.deepEqual((await rows(page, "query-local")).map(([id, c]) => [id, c[0]]), [[`q-l${hold.trace}`, text.hold]]);
  assert.deepEqual(await actions(page, `q-l${hold.trace}`), ["q-complete", "q-reprint"]);
  await tid(page, `q-complete-l${hold.trace}`).focus();
  await page.keyboard.press("Enter");
  assert.equal(await tid(page, "op-complete").getAttribute("aria-pressed"), "true");
  assert.equal(await tid(page, "preauth-rrn").inputValue(), hold.rrn);
  assert.equal(await tid(page, "preauth-auth").inputValue(), hold.auth);
  assert.equal(await focused(page), "amount");
  await page.keyboard.type("5500");
  await tid(page, "pan").fill(CARD);
  await tid(page, "expiry").fill(EXPIRY);
  await tid(page, "preauth-submit").click();
  await tid(page, "result").waitFor();
  assert.equal(await tid(page, "result").getAttribute("data-status"), "approved");
  const completion = Number(await tid(page, "trace").textContent());

  // Completed, the hold offers no completion; the completion offers its void.
  await query(page, hold.rrn);
  assert.deepEqual(await actions(page, `q-l${hold.trace}`), ["q-reprint"]);
  await query(page, String(completion));
  const [[, completionCells]] = await rows(page, "query-local");
  assert.equal(completionCells[0], text.completion);
  assert.equal(minor(completionCells[4]), 5500);
  assert.deepEqual(await actions(page, `q-l${completion}`), ["q-cvoid", "q-reprint"]);
  await tid(page, `q-cvoid-l${completion}`).click();
  assert.equal(await tid(page, "op-completion-void").getAttribute("aria-pressed"), "true");
  assert.equal(await tid(page, "preauth-trace").inputValue(), String(completion));
  assert.equal(await focused(page), "preauth-supervisor");

  // A card number typed in the box is no query, and never leaves in a URL.
  await tid(page, "tab-query").click();
  await tid(page, "query-text").fill(CARD);
  await tid(page, "query-text").press("Enter");
  await tid(page, "query-bad").waitFor();
  assert.ok(urls.some((u) => u.includes("/v1/sales?q=")), "the host's lookup was asked");
  assert.deepEqual(urls.filter((u) => u.includes(CARD)), [], "the card number is in no request");
  assert.deepEqual(page.errors, []);
  await context.close();
}
