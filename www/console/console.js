// The merchant's console (R22, docs/rules.md): a plain ES module over the host's
// /v1/console/* routes (docs/api.md). The console token lives in this tab's sessionStorage
// only and is sent as a bearer credential; it never goes into a URL or a cookie.

import { dailyPicture, hourlyPicture } from "./charts.js";

const TOKEN_KEY = "softpos.console.token";
const LOCALE_KEY = "softpos.console.locale";
const POLL_MS = 5000;
/** The pictures and the history are read again every this many polls (the pictures also
 * after a sign-off). */
const PICTURE_POLLS = 3;

const TEXT = {
  "zh-CN": {
    title: "商户管理台", otherLanguage: "English", signOut: "退出", signInTitle: "登录",
    merchantId: "商户号", user: "用户名", password: "密码", signIn: "登录",
    now: "终端现状", nowHint: "有风险的终端排在前面；每 5 秒自动刷新。",
    terminal: "终端", flags: "风险", state: "状态", lastSeen: "最近活动", openBatch: "当前批次",
    lastSettlement: "上次结算", actions: "操作", history: "结算历史", from: "起始营业日",
    to: "截止营业日", show: "查询", exportCsv: "导出 CSV", businessDate: "营业日", batch: "批次",
    outcome: "对账结果", terminalTotals: "终端合计", hostTotals: "主机合计", discrepancies: "差异",
    signed_in: "已签到", signed_off: "已签退", unactivated: "未激活",
    checkout: "网店收银（每位顾客一个通道，无人值守）",
    not_signed_off: "未签退", not_settled_past_cutoff: "未结算", pending_reversals: "冲正未完成",
    unbalanced_last_settlement: "对账不平", none: "无", balanced: "平", unbalanced: "不平",
    awaitingUpload: "待批上送", signOffTerminal: "签退", signOffLabel: (t) => `将终端 ${t} 签退`,
    confirmSignOff: (t) => `将终端 ${t} 签退？收银员需重新签到，交易不受影响。`,
    signedOff: (t) => `终端 ${t} 已签退`, since: "自", entries: (n) => `${n} 笔`,
    updated: (time) => `更新于 ${time}`, noTerminals: "该商户还没有终端。",
    noSettlements: "该范围内没有结算。", cutoffs: "日切：", sales: "消费", net: "净额",
    reversalsOwed: (n) => `${n} 笔冲正待上送`, needFields: "请填写商户号（15 位）、用户名和密码。",
    BAD_CREDENTIALS: "商户号、用户名或密码错误", OPERATOR_LOCKED: "密码错误三次，账户已锁定 15 分钟",
    BUSY: "请求过多，请稍后再试", SESSION_EXPIRED: "登录已过期，请重新登录", offline: "无法连接主机，稍后自动重试",
    pictures: "营业图表", asTable: "以表格查看", total: "合计", hour: "时段", salesCount: "消费笔数", amount: "金额",
    count: (n) => `${n} 笔`,
    dailyTitle: (n) => `近 ${n} 个营业日净额（按终端叠加）`,
    dailyDesc: (from, to, n, total, best, bestAmount) => `${from} 至 ${to}，${n} 个终端，净额合计 ${total}；最高为 ${best}，${bestAmount}。`,
    dailyNone: (from, to) => `${from} 至 ${to} 没有成功的交易。`,
    hourlyTitle: (date) => `今日（${date}）每小时消费`,
    hourlyDesc: (date, n, total, hour, count, amount) => `${date} 共 ${n} 笔消费，${total}；最多在 ${hour} 点：${count} 笔，${amount}。`,
    hourlyNone: (date) => `${date} 还没有成功的消费。`,
  },
  en: {
    title: "Merchant console", otherLanguage: "中文", signOut: "Sign out", signInTitle: "Sign in",
    merchantId: "Merchant id", user: "User", password: "Password", signIn: "Sign in",
    now: "Terminals now", nowHint: "Terminals at risk come first; refreshed every 5 seconds.",
    terminal: "Terminal", flags: "Risks", state: "State", lastSeen: "Last seen", openBatch: "Open batch",
    lastSettlement: "Last settlement", actions: "Actions", history: "Settlement history",
    from: "From business day", to: "To business day", show: "Show", exportCsv: "Export CSV",
    businessDate: "Business day", batch: "Batch", outcome: "Outcome", terminalTotals: "Terminal totals",
    hostTotals: "Host totals", discrepancies: "Discrepancies",
    signed_in: "Signed in", signed_off: "Signed off", unactivated: "Not activated",
    checkout: "Web shop checkout (a lane per customer, unattended)",
    not_signed_off: "Not signed off", not_settled_past_cutoff: "Not settled past cut-off",
    pending_reversals: "Pending reversals", unbalanced_last_settlement: "Last settlement unbalanced",
    none: "none", balanced: "balanced", unbalanced: "unbalanced", awaitingUpload: "awaiting upload",
    signOffTerminal: "Sign off", signOffLabel: (t) => `Sign off terminal ${t}`,
    confirmSignOff: (t) => `Sign terminal ${t} off? Its cashier signs in again; no transaction changes.`,
    signedOff: (t) => `Terminal ${t} signed off`, since: "since", entries: (n) => `${n} entries`,
    updated: (time) => `Updated ${time}`, noTerminals: "This merchant has no terminals yet.",
    noSettlements: "No settlements in this range.", cutoffs: "Cut-offs: ", sales: "sales", net: "net",
    reversalsOwed: (n) => `${n} reversals owed`, needFields: "Enter the 15-digit merchant id, the user and the password.",
    BAD_CREDENTIALS: "Wrong merchant id, user or password", OPERATOR_LOCKED: "Locked for 15 minutes after 3 wrong passwords",
    BUSY: "Too many attempts; try again shortly", SESSION_EXPIRED: "Your sign-in has run out; sign in again",
    offline: "The host cannot be reached; retrying",
    pictures: "Pictures", asTable: "Show as a table", total: "Total", hour: "Hour", salesCount: "Sales", amount: "Amount",
    count: (n) => `${n} ${n === 1 ? "sale" : "sales"}`,
    dailyTitle: (n) => `Net amount of the last ${n} business days, stacked by terminal`,
    dailyDesc: (from, to, n, total, best, bestAmount) => `${from} to ${to}, ${n} terminals, net ${total} in all; the highest day ${best} with ${bestAmount}.`,
    dailyNone: (from, to) => `No approved transactions from ${from} to ${to}.`,
    hourlyTitle: (date) => `Sales per hour today (${date})`,
    hourlyDesc: (date, n, total, hour, count, amount) => `${date}: ${n} sales, ${total}; the busiest hour ${hour}:00 with ${count} sales, ${amount}.`,
    hourlyNone: (date) => `No approved sales on ${date} yet.`,
  },
};

const $ = (id) => document.getElementById(id);
let locale = pickLocale();
let timer = null;
let polling = false;
let lastTerminals = null;
let lastHistory = null;
let lastDaily = null;
let lastHourly = null;
let polls = 0;

function pickLocale() {
  const asked = new URLSearchParams(location.search).get("locale");
  const kept = localStorage.getItem(LOCALE_KEY);
  const wanted = asked || kept || "zh-CN";
  return wanted.toLowerCase().startsWith("en") ? "en" : "zh-CN";
}

function t(key, ...args) {
  const v = TEXT[locale][key];
  return typeof v === "function" ? v(...args) : (v ?? key);
}

function applyLanguage() {
  document.documentElement.lang = locale;
  document.title = `softpos ${t("title")}`;
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  if (lastTerminals) renderTerminals(lastTerminals);
  if (lastHistory) renderHistory(lastHistory);
  renderPictures();
}

/** Minor units as the currency writes them, exactly (no floats). */
function money(minor, currency) {
  const exponent = { JPY: 0, KRW: 0, KWD: 3 }[currency] ?? 2;
  const sign = minor < 0 ? "-" : "";
  const digits = String(Math.abs(minor)).padStart(exponent + 1, "0");
  const whole = exponent ? digits.slice(0, -exponent) : digits;
  const frac = exponent ? `.${digits.slice(-exponent)}` : "";
  return `${sign}${currency} ${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}${frac}`;
}

/** An axis label: the amount without its currency (the caption names it), whole units bare. */
function tickMoney(minor, currency) {
  const bare = money(Math.abs(minor), currency).slice(currency.length + 1).replace(/\.0+$/, "");
  return minor < 0 ? `-${bare}` : bare;
}

function when(rfc3339) {
  if (!rfc3339) return "—";
  const d = new Date(rfc3339);
  return d.toLocaleString(locale, { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function say(message) {
  $("status").textContent = message;
}

async function api(path, options = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = { ...(options.headers || {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body) headers["content-type"] = "application/json";
  const res = await fetch(path, { ...options, headers });
  if (res.ok) return res;
  let code = "INTERNAL";
  let message = res.statusText;
  try {
    const body = await res.json();
    code = body.error.code;
    message = body.error.message;
  } catch { /* not our error body */ }
  const err = new Error(TEXT[locale][code] || message);
  err.code = code;
  err.status = res.status;
  throw err;
}

function showSignedIn(signedIn) {
  $("signin").hidden = signedIn;
  $("now").hidden = !signedIn;
  $("history").hidden = !signedIn;
  $("pictures").hidden = !signedIn;
  $("signout").hidden = !signedIn;
  if (signedIn) {
    refresh();
    loadHistory();
    loadPictures();
    clearInterval(timer);
    timer = setInterval(() => {
      if (document.hidden) return;
      refresh();
      if (++polls % PICTURE_POLLS === 0) {
        loadPictures();
        // The history too, unless the merchant is editing its filter.
        if (!$("history-filter").contains(document.activeElement)) loadHistory();
      }
    }, POLL_MS);
  } else {
    clearInterval(timer);
    timer = null;
    lastTerminals = null;
    lastHistory = null;
    lastDaily = null;
    lastHourly = null;
  }
}

function signedOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  showSignedIn(false);
  $("signin-error").textContent = message || "";
  $("merchant").focus();
}

async function signIn(event) {
  event.preventDefault();
  const merchant_id = $("merchant").value.trim();
  const user = $("user").value.trim();
  const password = $("password").value;
  if (!/^[0-9]{15}$/.test(merchant_id) || !user || !password) {
    $("signin-error").textContent = t("needFields");
    return;
  }
  const button = event.target.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const res = await api("/v1/console/sign-in", {
      method: "POST",
      body: JSON.stringify({ merchant_id, user, password }),
    });
    const body = await res.json();
    sessionStorage.setItem(TOKEN_KEY, body.console_token);
    $("password").value = "";
    $("signin-error").textContent = "";
    showSignedIn(true);
    $("now-title").focus();
  } catch (e) {
    $("signin-error").textContent = e.code ? e.message : t("offline");
  } finally {
    button.disabled = false;
  }
}

async function refresh() {
  if (polling) return;
  polling = true;
  try {
    const body = await (await api("/v1/console/terminals")).json();
    lastTerminals = body.terminals;
    renderTerminals(lastTerminals);
    // Not in the live region: a screen reader would hear it every 5 seconds.
    $("updated").textContent = t("updated", new Date().toLocaleTimeString(locale));
  } catch (e) {
    if (e.status === 401) signedOut(e.message);
    else say(e.code ? e.message : t("offline"));
  } finally {
    polling = false;
  }
}

function totalsText(totals) {
  if (!totals) return "—";
  return `${t("sales")} ${totals.sale.count} · ${money(totals.sale.amount, totals.currency)} · ${t("net")} ${money(totals.net_amount, totals.currency)}`;
}

function terminalRow(term) {
  const flags = el("td", { "data-label": t("flags") });
  if (term.flags.length === 0) flags.append(el("span", { class: "ok", text: t("none") }));
  for (const f of term.flags) flags.append(el("span", { class: "flag", text: t(f) }));
  const state = [t(term.state), term.operator ? `· ${term.operator}` : "", term.since ? `· ${t("since")} ${when(term.since)}` : ""].join(" ");
  const batch = term.open_batch
    ? `#${term.open_batch.batch_no} (${term.open_batch.business_date}) · ${t("entries", term.open_batch.entries)} · ${totalsText(term.open_batch.totals)}`
    : "—";
  const reversals = term.pending_reversals ? ` · ${t("reversalsOwed", term.pending_reversals)}` : "";
  const last = term.last_settlement
    ? `#${term.last_settlement.batch_no} · ${t(term.last_settlement.outcome)} · ${when(term.last_settlement.settled_at)}`
    : "—";
  const button = el("button", { type: "button", class: "quiet", "aria-label": t("signOffLabel", term.terminal_id), text: t("signOffTerminal") });
  // A checkout terminal is never signed in itself: its lanes sell unattended (R23).
  button.disabled = term.state === "unactivated" || term.state === "checkout";
  button.addEventListener("click", () => signOffTerminal(term.terminal_id, button));
  return el(
    "tr", { class: term.flags.length ? "flagged" : "" },
    el("th", { scope: "row", "data-label": t("terminal"), text: term.terminal_id }),
    flags,
    el("td", { "data-label": t("state"), text: state }),
    el("td", { "data-label": t("lastSeen"), text: when(term.last_seen) }),
    el("td", { "data-label": t("openBatch"), class: "num", text: batch + reversals }),
    el("td", { "data-label": t("lastSettlement"), text: last }),
    el("td", {}, button),
  );
}

function renderTerminals(terminals) {
  const body = $("terminals");
  // Keep the keyboard focus on the same terminal's button across a refresh.
  const focused = document.activeElement?.closest?.("tr")?.querySelector("th")?.textContent;
  body.replaceChildren(...terminals.map(terminalRow));
  if (terminals.length === 0) body.append(el("tr", {}, el("td", { colspan: "7", text: t("noTerminals") })));
  if (focused) {
    for (const row of body.rows) {
      if (row.querySelector("th")?.textContent === focused) row.querySelector("button")?.focus();
    }
  }
}

async function signOffTerminal(terminalId, button) {
  if (!window.confirm(t("confirmSignOff", terminalId))) return;
  button.disabled = true;
  try {
    await api(`/v1/console/terminals/${encodeURIComponent(terminalId)}/sign-off`, { method: "POST", body: "{}" });
    await refresh();
    loadPictures();
    say(t("signedOff", terminalId));
  } catch (e) {
    if (e.status === 401) signedOut(e.message);
    else say(e.code ? e.message : t("offline"));
  } finally {
    button.disabled = false;
  }
}

function historyQuery(format) {
  const q = new URLSearchParams();
  if ($("from").value) q.set("from", $("from").value);
  if ($("to").value) q.set("to", $("to").value);
  const terminal = $("terminal-filter").value.trim();
  if (terminal) q.set("terminal_id", terminal);
  if (format) q.set("format", format);
  return `/v1/console/settlements?${q}`;
}

async function loadHistory(event) {
  event?.preventDefault();
  try {
    const body = await (await api(historyQuery())).json();
    $("from").value = body.from;
    $("to").value = body.to;
    lastHistory = body;
    renderHistory(body);
  } catch (e) {
    if (e.status === 401) signedOut(e.message);
    else say(e.code ? e.message : t("offline"));
  }
}

function renderHistory(history) {
  const rows = history.settlements.map((s) => {
    const outcome = `${t(s.outcome)}${s.awaiting_upload ? ` (${t("awaitingUpload")})` : ""}`;
    const discrepancies = s.discrepancies.map((d) => `#${d.trace_no} ${d.kind}`).join(", ") || "—";
    return el(
      "tr", { class: s.outcome === "unbalanced" ? "flagged" : "" },
      el("td", { "data-label": t("businessDate"), text: s.business_date }),
      el("th", { scope: "row", "data-label": t("terminal"), text: s.terminal_id }),
      el("td", { "data-label": t("batch"), text: `#${s.batch_no} · ${when(s.settled_at)}` }),
      el("td", { "data-label": t("outcome"), text: outcome }),
      el("td", { "data-label": t("terminalTotals"), class: "num", text: totalsText(s.terminal_totals) }),
      el("td", { "data-label": t("hostTotals"), class: "num", text: totalsText(s.host_totals) }),
      el("td", { "data-label": t("discrepancies"), text: discrepancies }),
    );
  });
  if (rows.length === 0) rows.push(el("tr", {}, el("td", { colspan: "7", text: t("noSettlements") })));
  $("settlements").replaceChildren(...rows);
  const cutoffs = history.cutoffs.map((c) => `${c.business_date} (${when(c.ran_at)})`).join(", ");
  $("cutoffs").textContent = cutoffs ? `${t("cutoffs")}${cutoffs}` : "";
}

async function loadPictures() {
  try {
    const [daily, hourly] = await Promise.all([
      api("/v1/console/daily?days=30").then((r) => r.json()),
      api("/v1/console/hourly").then((r) => r.json()),
    ]);
    const same = JSON.stringify([daily, hourly]) === JSON.stringify([lastDaily, lastHourly]);
    lastDaily = daily;
    lastHourly = hourly;
    if (!same) renderPictures();
  } catch (e) {
    if (e.status === 401) signedOut(e.message);
    else say(e.code ? e.message : t("offline"));
  }
}

/** Draws both pictures at the width their box has now (text stays 12 px on a phone). */
function renderPictures() {
  if (!lastDaily || !lastHourly) return;
  const words = TEXT[locale];
  const text = { ...words, currency: lastTerminals?.[0]?.open_batch?.totals.currency ?? "CNY" };
  const width = (id) => Math.max(260, Math.min(1100, Math.floor($(id).clientWidth || 320)));
  const daily = dailyPicture(lastDaily, { width: width("daily-chart"), text, money, tickMoney });
  // The axes give bare amounts: the caption names their currency.
  $("daily-caption").textContent = `${words.dailyTitle(30)} · ${daily.currency}`;
  $("daily-chart").replaceChildren(daily.svg);
  $("daily-legend").replaceChildren(...daily.legend.children);
  $("daily-table").replaceChildren(daily.table);
  const hourly = hourlyPicture(lastHourly, { width: width("hourly-chart"), text, money, tickMoney, currency: text.currency });
  $("hourly-caption").textContent = `${words.hourlyTitle(lastHourly.date)} · ${hourly.currency}`;
  $("hourly-chart").replaceChildren(hourly.svg);
  $("hourly-table").replaceChildren(hourly.table);
}

async function exportCsv() {
  try {
    const res = await api(historyQuery("csv"));
    const url = URL.createObjectURL(await res.blob());
    const a = el("a", { href: url, download: `settlements-${$("from").value}-${$("to").value}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } catch (e) {
    if (e.status === 401) signedOut(e.message);
    else say(e.code ? e.message : t("offline"));
  }
}

function start() {
  applyLanguage();
  $("signin").addEventListener("submit", signIn);
  $("history-filter").addEventListener("submit", loadHistory);
  $("csv").addEventListener("click", exportCsv);
  $("signout").addEventListener("click", () => signedOut(""));
  $("lang").addEventListener("click", () => {
    locale = locale === "en" ? "zh-CN" : "en";
    localStorage.setItem(LOCALE_KEY, locale);
    applyLanguage();
  });
  $("now-title").tabIndex = -1;
  let resized = null;
  window.addEventListener("resize", () => {
    clearTimeout(resized);
    resized = setTimeout(renderPictures, 150);
  });
  showSignedIn(Boolean(sessionStorage.getItem(TOKEN_KEY)));
}

start();
