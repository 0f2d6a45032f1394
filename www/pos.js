// The counter page: a full-screen soft POS. Query parameters pick the terminal and the
// language: ?terminal=10000001&merchant=898310048160001&locale=en (and timeout-ms, R8's wait
// for an answer, for a slow link; paper=58mm|80mm|a4, the counter printer's, R21)
// (A file of its own: the page's CSP allows no inline script.)
import "./softpos-terminal.js";
const q = new URLSearchParams(location.search);
const locale = q.get("locale") ?? (navigator.language.startsWith("zh") ? "zh-CN" : "en");
document.documentElement.lang = locale;
const el = document.createElement("softpos-terminal");
el.setAttribute("merchant-id", q.get("merchant") ?? "898310048160001");
el.setAttribute("terminal-id", q.get("terminal") ?? "10000001");
el.setAttribute("locale", locale);
el.setAttribute("mode", "counter");
if (q.has("paper")) el.setAttribute("paper", q.get("paper"));
if (q.has("timeout-ms")) el.setAttribute("timeout-ms", q.get("timeout-ms"));
document.getElementById("pos").append(el);
