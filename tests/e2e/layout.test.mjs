// The cashier's screen on a 390 px phone and a 1280 px desktop, in zh-CN and en: at each step
// of a day, axe-core finds no serious or critical violation, nothing is wider than the phone's
// viewport, and the key steps are photographed for the docs (docs/screens/, see
// docs/browser.md). node --test tests/e2e/layout.test.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  sale, signIn, tid, startHost, launch, openPage, keypad, axeViolations, wideElements, shotDocs, CARD, DECLINED_CARD, EXPIRY,
} from "./lib.mjs";

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
const RUNS = [
  ["zh-CN", PHONE, "10000031"],
  ["zh-CN", DESKTOP, "10000032"],
  ["en", PHONE, "10000033"],
  ["en", DESKTOP, "10000034"],
];

let host;
let browser;

before(async () => {
  host = await startHost(RUNS.map(([, , terminal]) => terminal));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await host?.stop();
});


/** What is wrong with the page as it stands: axe's serious and critical findings, and at
 * phone width anything wider than the screen or a badge or status broken over lines. */
async function problems(page, label) {
  const found = (await axeViolations(page)).map((v) => `${label}: ${v}`);
  if (page.viewportSize().width <= PHONE.width) {
    for (const w of await wideElements(page)) found.push(`${label}: wider than the screen: ${w}`);
    for (const w of await brokenLabels(page)) found.push(`${label}: broken over lines: ${w}`);
    for (const w of await overlaps(page)) found.push(`${label}: overlaps: ${w}`);
  }
  return found;
}

/** Badges, journal statuses, tabs and steps whose text runs over more than one line (a zh
 * status one character per line). */
function brokenLabels(page) {
  return page.evaluate(() => [...document.querySelectorAll(
    '.sp-badge, .sp-head > *, .sp-tabs button, [data-testid="journal"] td:nth-child(4), .sp-steps li',
  )].filter((el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    return tops.size > 1;
  }).map((el) => `${el.tagName.toLowerCase()} "${el.textContent.trim()}"`));
}

/** The page's language links against the widget's header. */
function overlaps(page) {
  return page.evaluate(() => {
    const lang = document.querySelector("nav.lang")?.getBoundingClientRect();
    if (!lang) return [];
    return [...document.querySelectorAll(".sp-head > *")].filter((el) => {
      const b = el.getBoundingClientRect();
      return b.left < lang.right && b.right > lang.left && b.top < lang.bottom && b.bottom > lang.top;
    }).map((el) => `nav.lang and "${el.textContent.trim()}"`);
  });
}

/** The whole keypad is on screen, and not under the result. */
async function keypadOnScreen(page) {
  const keypad = await page.locator(".sp-keypad").boundingBox();
  const sheet = await tid(page, "result").boundingBox();
  const height = page.viewportSize().height;
  const bottom = sheet && sheet.y > keypad.y ? Math.min(height, sheet.y) : height;
  return keypad.y >= 0 && keypad.y + keypad.height <= bottom;
}

/** The charge button's colour with --softpos-accent set on the page's root, then on the
 * <softpos-terminal> element itself (the nearer wins); both unset again after. */
function themed(page) {
  return page.evaluate(() => {
    const charge = () => getComputedStyle(document.querySelector('[data-testid="charge"]')).backgroundColor;
    const root = document.documentElement;
    const el = document.querySelector("softpos-terminal");
    root.style.setProperty("--softpos-accent", "rgb(0, 90, 160)");
    const fromRoot = charge();
    el.style.setProperty("--softpos-accent", "rgb(160, 60, 0)");
    const fromElement = charge();
    root.style.removeProperty("--softpos-accent");
    el.style.removeProperty("--softpos-accent");
    return [fromRoot, fromElement];
  });
}

async function day(locale, viewport, terminal) {
  const size = viewport.width;
  const context = await browser.newContext({ locale, viewport });
  const url = `${host.url}/pos.html?locale=${locale}&terminal=${terminal}`;
  let page = await openPage(context, url);
  const found = [];
  const at = async (state, { photo = true } = {}) => {
    found.push(...(await problems(page, state)));
    if (photo) await shotDocs(page, `${locale}-${size}-${state}`);
  };

  await tid(page, "activation-code").waitFor();
  await at("activate", { photo: false });
  await tid(page, "activation-code").fill(host.codes[terminal]);
  await tid(page, "activate").click();
  await tid(page, "operator").waitFor();
  await at("sign-in");
  await signIn(page, host);

  await keypad(page, 6800);
  await tid(page, "pan").fill(CARD);
  await tid(page, "expiry").fill(EXPIRY);
  await at("sale");
  assert.deepEqual(await themed(page), ["rgb(0, 90, 160)", "rgb(160, 60, 0)"], "--softpos-accent");
  await tid(page, "charge").click();
  await tid(page, "result").waitFor();
  assert.equal(await tid(page, "result").getAttribute("data-status"), "approved");
  await at("approved");
  assert.ok(await keypadOnScreen(page), "the result leaves the keypad on screen");
  await tid(page, "dismiss").click();
  assert.equal(await tid(page, "result").count(), 0, "the result is dismissed");

  await sale(page, 3000, DECLINED_CARD);
  assert.equal(await tid(page, "result").getAttribute("data-status"), "declined");
  await at("declined");
  await sale(page, 12345, CARD);

  await tid(page, "tab-journal").click();
  await tid(page, "journal").waitFor();
  const trace = await page.locator("[data-trace]").first().getAttribute("data-trace");
  await tid(page, `void-${Number(trace)}`).click();
  await tid(page, "void-supervisor").waitFor();
  await at("journal");
  await tid(page, "tab-totals").click();
  await tid(page, "totals").waitFor();
  await at("totals", { photo: false });
  await tid(page, "tab-refund").click();
  await tid(page, "find-query").waitFor();
  await at("refund");
  await tid(page, "found-local").locator('[data-action="pick"]').first().click();
  await tid(page, "refund-submit").waitFor();
  await at("refund-picked", { photo: false });

  // The browser closed without signing off: the next page raises the banner.
  await page.close();
  page = await openPage(context, url);
  await tid(page, "recovery").waitFor();
  await at("recovery-signed-off", { photo: false });
  await signIn(page, host);
  await tid(page, "recovery").locator('[data-action="settle"]').waitFor();
  await at("recovery");
  await tid(page, "recovery").locator('[data-action="settle"]').click();
  await tid(page, "slip").waitFor();
  await at("slip");
  await tid(page, "sign-off").click();
  await tid(page, "operator").waitFor();
  await context.close();
  assert.deepEqual(found, []);
}

for (const [locale, viewport, terminal] of RUNS) {
  test(`the counter in ${locale} at ${viewport.width} px: accessible, fits, photographed`, () =>
    day(locale, viewport, terminal));
}

test("the storefront checkout at 390 px and 1280 px: accessible, fits, photographed", async () => {
  const context = await browser.newContext({ locale: "en", viewport: DESKTOP });
  const page = await openPage(context, `${host.url}/checkout.html`);
  const found = [];
  const at = async (state) => {
    for (const viewport of [PHONE, DESKTOP]) {
      await page.setViewportSize(viewport);
      found.push(...(await problems(page, `checkout ${viewport.width} ${state}`)));
      await shotDocs(page, `en-${viewport.width}-checkout-${state}`);
    }
  };
  await page.locator("#setup[open]").waitFor();
  await at("setup");
  await page.fill("#setup-form [name=code]", host.codes["10000002"]);
  await page.fill("#setup-form [name=password]", host.operatorPassword);
  await page.click("#setup-form button");
  await tid(page, "pay").waitFor();
  // The storefront's own accent, set on the element in checkout.css.
  assert.equal(await tid(page, "pay").evaluate((b) => getComputedStyle(b).backgroundColor), "rgb(47, 79, 58)");
  await tid(page, "pan").fill(CARD);
  await tid(page, "expiry").fill(EXPIRY);
  await tid(page, "pay").click();
  await tid(page, "result").waitFor();
  await at("paid");
  await context.close();
  assert.deepEqual(found, []);
});
