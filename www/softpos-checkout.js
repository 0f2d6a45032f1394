// softpos-checkout.js: the storefront's loader of the hosted checkout (README.md, "Taking
// payments in a web shop"; docs/browser.md, "The checkout frame"). A classic script with no
// wasm: it frames /checkout-frame.html from the host's origin, where the card is typed, and
// relays the frame's messages as DOM events. The card never enters the shop's page.
//
//   <script src="https://acquirer.example/softpos-checkout.js"></script>
//   <softpos-checkout host-url="https://acquirer.example" merchant-id="898310048160001"
//                     terminal-id="20000001" amount="12800" currency="CNY"
//                     reference="ORDER-1" locale="en"></softpos-checkout>
//
// Events on the element: `softpos-ready`, `softpos-result` (detail: the TxResult, no card
// data), `softpos-error` (detail: {code, message}). Changing `amount` before the payment
// starts posts `setAmount` to the frame. Only messages from the element's own frame, with the
// host's origin, are read; the element posts only to the host's origin.
(() => {
  const NAME = "softpos-checkout";
  if (customElements.get(NAME)) return;
  // Element attribute -> the frame's query parameter.
  const QUERY = [["merchant-id", "merchant_id"], ["terminal-id", "terminal_id"], ["amount", "amount"],
    ["currency", "currency"], ["reference", "reference"], ["locale", "locale"]];

  class SoftposCheckout extends HTMLElement {
    static get observedAttributes() {
      return ["amount"];
    }

    connectedCallback() {
      if (this.frame) return;
      let host;
      try {
        host = new URL(this.getAttribute("host-url"));
        if (!/^https?:$/.test(host.protocol)) throw host;
      } catch {
        return this.fire("softpos-error", { code: "BAD_REQUEST", message: "host-url must be the host's http(s) URL" });
      }
      this.origin = host.origin;
      const query = new URLSearchParams();
      for (const [attr, key] of QUERY) {
        const v = this.getAttribute(attr);
        if (v !== null) query.set(key, v);
      }
      this.sent = this.getAttribute("amount");
      const frame = document.createElement("iframe");
      frame.title = /^zh/.test(this.getAttribute("locale") ?? "zh") ? "银行卡支付" : "Card payment";
      // CSSOM, not a style attribute: allowed under a CSP without 'unsafe-inline'.
      Object.assign(frame.style, { display: "block", width: "100%", height: "24rem", border: "0" });
      frame.src = `${this.origin}/checkout-frame.html?${query}`;
      this.listener = (e) => this.onMessage(e);
      window.addEventListener("message", this.listener);
      this.frame = frame;
      this.append(frame);
    }

    disconnectedCallback() {
      window.removeEventListener("message", this.listener);
      this.frame?.remove();
      this.frame = this.ready = undefined;
    }

    attributeChangedCallback() {
      if (this.ready) this.postAmount();
    }

    postAmount() {
      const amount = this.getAttribute("amount");
      if (amount === this.sent) return;
      this.sent = amount;
      this.frame.contentWindow.postMessage({ type: "setAmount", amount: Number(amount) }, this.origin);
    }

    onMessage(e) {
      // Only this element's frame, only from the host's origin; anything else is not ours.
      if (!this.frame || e.source !== this.frame.contentWindow || e.origin !== this.origin) return;
      const m = e.data;
      if (!m || typeof m !== "object") return;
      if (m.type === "resize" && Number.isFinite(m.height) && m.height >= 0) {
        this.frame.style.height = `${Math.ceil(m.height)}px`;
      } else if (m.type === "ready") {
        this.ready = true;
        // An amount changed while the frame was loading.
        this.postAmount();
        this.fire("softpos-ready");
      } else if (m.type === "result") {
        this.fire("softpos-result", m.result);
      } else if (m.type === "error") {
        this.fire("softpos-error", { code: String(m.code), message: String(m.message) });
      }
    }

    fire(type, detail) {
      this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true }));
    }
  }

  customElements.define(NAME, SoftposCheckout);
})();
