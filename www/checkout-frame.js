// checkout-frame.html: the hosted checkout (docs/browser.md, "The checkout frame"). Framed by a
// storefront through softpos-checkout.js, it runs on the host's origin: the card is typed
// here and never reaches the shop's page. It opens this browser's lane of the checkout
// terminal (creating and activating one the first time), signs it in without a cashier, mounts
// the widget in checkout mode, and talks to its parent by postMessage, to the bound origin only.
const query = new URLSearchParams(location.search);
const merchantId = query.get("merchant_id") ?? "";
const terminalId = query.get("terminal_id") ?? "";
const reference = query.get("reference") ?? "";
const locale = /^zh/.test(query.get("locale") ?? "zh-CN") ? "zh-CN" : "en";
document.documentElement.lang = locale;

// The frame's own words; the terminal's refusals come from the module (errorMessage).
const TEXT = {
  "zh-CN": {
    loading: "正在准备安全支付…",
    notFramed: "此支付页面只能嵌入商户的网店页面使用",
    wrongSite: "此网站未获准使用该收银终端收款",
    notRegistered: "该网店收银终端未登记",
    unreachable: "无法连接支付主机，请稍后重试",
    currency: "网店的币种与收银终端的币种不一致",
    amount: "金额无效",
    otherTab: "本店的支付已在另一个标签页或窗口中打开，请在那里完成或关闭后重试",
    storage: "浏览器不允许支付框保存数据，无法支付",
    tooLate: "支付已开始，金额不能再更改",
    lostSale: "主机无应答：本笔交易将自动冲正，顾客不会被扣款",
    failed: "支付暂时无法进行，请稍后重试",
  },
  en: {
    loading: "Preparing a secure payment…",
    notFramed: "This payment page works only inside the merchant's shop",
    wrongSite: "This site may not take payments with this checkout terminal",
    notRegistered: "This checkout terminal is not registered",
    unreachable: "The payment host cannot be reached; try again later",
    currency: "The shop's currency is not the checkout terminal's",
    amount: "Invalid amount",
    otherTab: "This shop's payment is open in another tab or window; finish or close it there, then try again",
    storage: "The browser does not let this payment frame keep its data; paying is not possible",
    tooLate: "The payment has started; its amount can no longer be changed",
    lostSale: "No answer from the host: the sale will be reversed automatically; the customer is not charged",
    failed: "Payment is not possible right now; try again later",
  },
}[locale];

const root = document.getElementById("checkout");
const status = document.getElementById("frame-status");
/** The storefront's origin, once the parent is known to be it: the only target of a post. */
let bound = null;
let softpos;
let terminal;
let handle;
let amount = Number(query.get("amount"));
/** Set once a sale has gone to the host: the amount is the cart's no longer. */
let started = false;
/** The lane signing in again by itself, which is no payment. */
let resigning = false;

function show(text, error = false) {
  status.textContent = text;
  status.classList.toggle("error", error);
  status.setAttribute("role", error ? "alert" : "status");
}

/** To the parent, with the bound origin as targetOrigin (never "*"); nothing before the check. */
function post(message) {
  if (bound) window.parent.postMessage(message, bound);
}

function postError(code, message) {
  post({ type: "error", code, message });
}

/** The origin of the page framing this one: `location.ancestorOrigins` (Chromium, Safari), else
 * the referrer's origin (Firefox; a shop sending no referrer is refused there). */
function parentOrigin() {
  if (window.parent === window) return null;
  if (location.ancestorOrigins) return location.ancestorOrigins[0] ?? null;
  try {
    return new URL(document.referrer).origin;
  } catch {
    return null;
  }
}

/** A refusal's words: the terminal's table for its codes, the frame's own otherwise. */
function words(error) {
  if (error?.code === "HOST_UNREACHABLE" || error instanceof TypeError) return TEXT.unreachable;
  if (error?.name === "SecurityError") return TEXT.storage;
  // The lane is one terminal: one tab at a time (docs/browser.md).
  if (error?.code === "BUSY") return TEXT.otherTab;
  return (error?.code && softpos?.errorMessage(error.code, locale)) || error?.message || TEXT.failed;
}

/** The host's refusal of one of its own calls, as an Error with the contract's code. */
async function refusal(answer) {
  const body = await answer.json().catch(() => ({}));
  const e = new Error(body?.error?.message ?? `HTTP ${answer.status}`);
  e.code = body?.error?.code ?? "HOST_UNREACHABLE";
  return e;
}

/** This browser's lane of the checkout terminal: the one its storage names, or a new one. */
async function openLane() {
  const key = `softpos-lane:${merchantId}/${terminalId}`;
  const kept = localStorage.getItem(key);
  if (kept) {
    const t = await softpos.Terminal.open({ hostUrl: location.origin, merchantId, terminalId: kept });
    if (t.state !== "unactivated") return t;
    // Its activation never finished, and its code is gone with the page that had it.
    t.free();
  }
  const answer = await fetch("/v1/checkout/lanes", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ merchant_id: merchantId, terminal_id: terminalId }),
  });
  if (!answer.ok) throw await refusal(answer);
  const lane = await answer.json();
  // Kept before the activation: the lane is no secret, its key goes to IndexedDB.
  localStorage.setItem(key, lane.lane_id);
  const t = await softpos.Terminal.open({ hostUrl: location.origin, merchantId, terminalId: lane.lane_id });
  await t.activate(lane.activation_code);
  return t;
}

function mount() {
  handle?.unmount();
  handle = softpos.mountWidget(root, terminal, { locale, mode: "checkout", amount, reference });
}

/** The result as the shop sees it: the TxResult's own fields, none of the card's. */
function forShop(r) {
  const { kind, status: st, responseCode, message, traceNo, batchNo, rrn, authCode, currency, at } = r;
  return { kind, status: st, responseCode, message, traceNo, batchNo, rrn, authCode, amount: r.amount, currency, at,
    reference: r.reference ?? null };
}

/** R3: whole minor units, 1 to 99 999 999 999. */
const validAmount = (n) => Number.isSafeInteger(n) && n >= 1 && n <= 99_999_999_999;

function onMessage(e) {
  // The parent, from the bound origin: anything else (another frame, another window, another
  // origin) is not the shop.
  if (e.source !== window.parent || e.origin !== bound) return;
  const m = e.data;
  if (!m || typeof m !== "object" || m.type !== "setAmount") return;
  if (started) return postError("BUSY", TEXT.tooLate);
  if (!validAmount(m.amount)) return postError("INVALID_AMOUNT", TEXT.amount);
  amount = m.amount;
  if (handle) mount();
}

/** Tells the parent the frame's height whenever it changes. */
function watchSize() {
  const box = document.getElementById("frame");
  let last = -1;
  new ResizeObserver(() => {
    const height = Math.ceil(box.getBoundingClientRect().height);
    if (height !== last) post({ type: "resize", height: (last = height) });
  }).observe(box);
}

async function main() {
  show(TEXT.loading);
  let checkout;
  try {
    const answer = await fetch(`/v1/checkout/terminals/${encodeURIComponent(merchantId)}/${encodeURIComponent(terminalId)}`);
    if (!answer.ok) return show(answer.status === 404 ? TEXT.notRegistered : TEXT.unreachable, true);
    checkout = await answer.json();
  } catch {
    return show(TEXT.unreachable, true);
  }
  const parent = parentOrigin();
  if (parent !== checkout.origin) {
    // Posts nothing: the page around it is not the shop this terminal is bound to.
    return show(parent ? TEXT.wrongSite : TEXT.notFramed, true);
  }
  bound = checkout.origin;
  window.addEventListener("message", onMessage);
  watchSize();
  const currency = query.get("currency");
  if (currency && currency !== checkout.currency) {
    show(TEXT.currency, true);
    return postError("BAD_REQUEST", TEXT.currency);
  }
  if (!validAmount(amount)) {
    show(TEXT.amount, true);
    return postError("INVALID_AMOUNT", TEXT.amount);
  }
  try {
    softpos = await import("./pkg/softpos.js");
    await softpos.default();
    terminal = await openLane();
    // A reload mid-payment left a reversal queued (R8): a sign-in sends it before anything else.
    if (terminal.state !== "signed_in" || terminal.pendingReversals > 0) await terminal.signInCheckout();
  } catch (e) {
    const text = words(e);
    show(text, true);
    // softpos's codes are strings; a DOMException's legacy code is a number.
    return postError(typeof e?.code === "string" ? e.code : "INTERNAL", text);
  }
  root.addEventListener("softpos-result", (e) => post({ type: "result", result: forShop(e.detail) }));
  terminal.subscribe((event) => {
    if (event.type === "state" && event.state === "busy" && !resigning) started = true;
    // A sale sent and not answered: the shop learns that the customer is not charged.
    if (event.type === "reversal_queued") postError("HOST_UNREACHABLE", TEXT.lostSale);
    // The host ended the session (cut-off, expiry): the lane signs in again by itself.
    if (event.type === "signed_off") {
      resigning = true;
      terminal.signInCheckout().catch(() => {}).finally(() => (resigning = false));
    }
  });
  mount();
  show("");
  post({ type: "ready" });
}

main();
