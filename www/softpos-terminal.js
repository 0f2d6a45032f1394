// <softpos-terminal>: the softpos widget as one tag.
//
//   <softpos-terminal merchant-id="898310048160001" terminal-id="10000001"
//                     locale="zh-CN" mode="counter"></softpos-terminal>
//   <softpos-terminal ... mode="checkout" amount="12800" reference="ORDER-1"></softpos-terminal>
//
// Attributes: host-url (default: this page's origin), merchant-id, terminal-id, locale
// ("zh-CN" | "en"), mode ("counter" | "checkout"), amount (minor units), reference, storage
// ("browser" | "memory"), paper (the counter printer's: "58mm" | "80mm" | "a4", for slips and
// reports, R21; default "80mm"), timeout-ms (how long a request may go unanswered before the terminal
// treats it as lost, R8; default 15000). The element fires `softpos-ready` (detail: the Terminal) once open,
// `softpos-error` (detail: the Error) if it cannot open, and, in checkout mode,
// `softpos-result` (detail: the TxResult) when a payment is answered.
import init, { Terminal, mountWidget, mountWidgetError } from "./pkg/softpos.js";

let loaded;
const load = () => (loaded ??= init());

class SoftposTerminal extends HTMLElement {
  async connectedCallback() {
    try {
      await load();
      const attr = (name, fallback) => this.getAttribute(name) ?? fallback;
      this.terminal = await Terminal.open({
        hostUrl: attr("host-url", location.origin),
        merchantId: attr("merchant-id", ""),
        terminalId: attr("terminal-id", ""),
        storage: attr("storage", "browser"),
        ...(this.hasAttribute("timeout-ms") ? { timeoutMs: Number(this.getAttribute("timeout-ms")) } : {}),
      });
      const opts = { locale: attr("locale", "zh-CN"), mode: attr("mode", "counter"), paper: attr("paper", "80mm") };
      if (opts.mode === "checkout") {
        opts.amount = Number(attr("amount", "0"));
        opts.reference = attr("reference", "");
      }
      this.handle = mountWidget(this, this.terminal, opts);
      this.dispatchEvent(new CustomEvent("softpos-ready", { detail: this.terminal, bubbles: true }));
    } catch (error) {
      // The reason in the page's language (BUSY: open in another tab); the bare message only
      // when the module itself failed to load.
      if (error.code) {
        mountWidgetError(this, error, { locale: this.getAttribute("locale") ?? "zh-CN" });
      } else {
        this.textContent = error.message;
        this.setAttribute("role", "alert");
      }
      this.dispatchEvent(new CustomEvent("softpos-error", { detail: error, bubbles: true }));
    }
  }

  disconnectedCallback() {
    this.handle?.unmount();
    this.handle = undefined;
  }
}

customElements.define("softpos-terminal", SoftposTerminal);
