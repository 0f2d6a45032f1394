// The demo storefront: opens its set-up box while the terminal cannot take payments and
// shows the order paid when the widget answers. A file of its own: the page's CSP allows no
// inline script.
import "./softpos-terminal.js";
const pay = document.getElementById("pay");
const setup = document.getElementById("setup");
const status = document.getElementById("setup-status");
pay.addEventListener("softpos-ready", ({ detail: terminal }) => {
  // Open the set-up box only while the terminal cannot take payments.
  setup.open = terminal.state !== "signed_in";
});
document.getElementById("setup-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const terminal = pay.terminal;
  try {
    if (terminal.state === "unactivated") await terminal.activate(f.get("code"));
    await terminal.signIn(f.get("operator"), f.get("password"));
    status.textContent = "Ready to take payments.";
    setup.open = false;
  } catch (err) {
    status.textContent = err.message;
  }
});
pay.addEventListener("softpos-result", ({ detail: result }) => {
  document.getElementById("order-status").textContent = result.status === "approved"
    ? `Order TEA-2026-0001 is paid (RRN ${result.rrn}).`
    : `The payment was declined (${result.responseCode}); try another card.`;
});
