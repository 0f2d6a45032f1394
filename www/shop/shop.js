// The demo shop's own script (README.md, "Taking payments in a web shop", step 4): it changes
// the amount before the payment and hears the outcome. It never sees the card: that is typed
// in the host's frame. A file of its own, as a shop with a strict CSP has it.
const checkout = document.querySelector("softpos-checkout");
const status = document.getElementById("order-status");
const giftWrap = document.getElementById("gift-wrap");

// The cart changed before the payment: the frame charges the new amount.
giftWrap.addEventListener("change", () => {
  const amount = giftWrap.checked ? 13800 : 12800;
  checkout.setAttribute("amount", String(amount));
  document.getElementById("total").textContent = `¥${(amount / 100).toFixed(2)}`;
});

checkout.addEventListener("softpos-result", ({ detail: result }) => {
  if (result.status === "approved") {
    // The shop's server confirms it by reference before shipping (README.md, step 5).
    status.textContent = `Order ${result.reference} is paid (RRN ${result.rrn}).`;
    giftWrap.disabled = true;
  } else {
    status.textContent = `The payment was declined (${result.responseCode}); try another card.`;
  }
});

checkout.addEventListener("softpos-error", ({ detail }) => {
  status.textContent = detail.message;
});
