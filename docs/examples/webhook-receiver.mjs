// A shop's server taking softpos webhooks (Node 18+, no dependencies). Run it with the secret
// `softpos-host webhook set` printed: SOFTPOS_WEBHOOK_SECRET=whsec_… node webhook-receiver.mjs
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

const secret = process.env.SOFTPOS_WEBHOOK_SECRET;

function verified(header = "", body) {
  const fields = Object.fromEntries(header.split(",").map((f) => f.split("=", 2)));
  const t = Number(fields.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300) return false; // 5 minutes
  const expected = createHmac("sha256", secret).update(`${t}.`).update(body).digest();
  const given = Buffer.from(fields.v1 ?? "", "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    if (!verified(req.headers["softpos-signature"], body)) return res.writeHead(400).end();
    const event = JSON.parse(body);
    // Mark the order event.data.payment.reference paid (or not), once per event.id.
    console.log(event.type, event.id, event.data.payment.reference, event.data.payment.status);
    res.writeHead(200).end();
  });
}).listen(Number(process.env.PORT ?? 3000), "127.0.0.1", function () {
  console.log(`listening on ${this.address().port}`);
});
