// The figures of BENCHMARKS.md against the targets the performance work set itself, written by
// `make bench` between `<!-- targets -->` and `<!-- end targets -->`. It reads the merged file
// (scripts/lib/bench-file.mjs), so a partial run still shows every row: each row says which
// run its figure comes from, and the peers beside it are from that same run.
//
//   node scripts/lib/bench-targets.mjs BENCHMARKS.md   (rewrites the file in place)

import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { blocks } from "./bench-file.mjs";

const START = "<!-- targets -->";
const END = "<!-- end targets -->";

/** The rows of every table in a set of figures, as arrays of cells (bold marks dropped). */
function rows(block) {
  return (block ?? "")
    .split("\n")
    .filter((l) => l.startsWith("|") && !/^\|[-:| ]+\|$/.test(l))
    .map((l) => l.slice(1, -1).split("|").map((c) => c.trim().replace(/\*\*/g, "")));
}

/** The stamp of a set: "2026-12-05 19:20 UTC at e25b8fc", or null when never measured. */
function stamp(block) {
  const m = /^\*Measured (.+) at commit (.+)\.\*$/m.exec(block ?? "");
  return m ? `${m[1]}, ${m[2]}` : null;
}

/** A figure of a cell; NaN for a cell that is missing or holds no number (never 0). */
const num = (s) => {
  const text = String(s ?? "").replace(/[ ,]/g, "");
  return text === "" ? NaN : Number(text);
};
const fmt = (n, digits) =>
  Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }).replace(/,/g, " ") : "—";

/** A row of the table: what, the figure, the target, whether it is met, where from. */
function row(figure, now, target, met, from) {
  const verdict = met === null ? "—" : met ? "met" : "missed";
  return `| ${figure} | ${now} | ${target} | ${verdict} | ${from ?? "never measured"} |`;
}

/** The host's figures: sales/s ÷ raw commits/s, and one terminal against its ceiling. */
function hostRows(block) {
  const out = [];
  const all = rows(block);
  const http1 = num(all.find((r) => r.length === 3 && r[0] === "1")?.[1]);
  for (const db of ["SQLite", "PostgreSQL"]) {
    const level = (n) => all.find((r) => r[0] === db && r[1] === String(n));
    const ratios = [1, 8, 64].map((n) => num(level(n)?.[6]));
    out.push(
      row(
        `${db}: host sales/s ÷ raw single-row commits/s, 1 / 8 / 64 terminals`,
        ratios.map((r) => fmt(r, 2)).join(" / ") + ` (raw ${fmt(num(level(1)?.[5]), 0)}/s)`,
        "8 ≥ 0.7; 64 ≥ 1.0",
        ratios.every(Number.isFinite) ? ratios[1] >= 0.7 && ratios[2] >= 1.0 : null,
        stamp(block),
      ),
    );
    const sales = num(level(1)?.[2]);
    const raw = num(level(1)?.[5]);
    const ceiling = 1 / (1 / http1 + 1 / raw);
    const share = sales / ceiling;
    out.push(
      row(
        `${db}: one sequential terminal ÷ its ceiling 1 / (1/http + 1/raw)`,
        `${fmt(share, 2)} (${fmt(sales, 0)} sales/s; http ${fmt(http1, 0)}/s, raw ${fmt(raw, 0)}/s)`,
        "≥ 0.8",
        Number.isFinite(share) ? share >= 0.8 : null,
        stamp(block),
      ),
    );
  }
  return out;
}

/** Settlement of 10 000 entries, balanced and unbalanced. */
function settleRows(block) {
  const ms = (outcome) => num(rows(block).find((r) => r[1] === outcome)?.[3]);
  return [
    ["balanced", 50],
    ["unbalanced, with the upload", 150],
  ].map(([outcome, target]) => {
    const took = ms(outcome.split(",")[0]);
    return row(
      `settle 10 000 entries, ${outcome}, ms`,
      fmt(took, 1),
      `≤ ${target}`,
      Number.isFinite(took) ? took <= target : null,
      stamp(block),
    );
  });
}

/** A sale's own work in the browser besides its two IndexedDB commits, by batch size. */
function browserRows(block) {
  const sizes = ["10", "1000", "20000"];
  const own = sizes.map((s) => {
    const r = rows(block).find((c) => c[0] === s);
    return num(r?.[2]) - num(r?.[3]);
  });
  const floor = /median ([0-9.]+) ms/.exec(block ?? "")?.[1];
  return [
    row(
      "a sale's own work in the browser besides its two IndexedDB commits, at 10 / 1 000 / 20 000 entries, ms (own work median − IndexedDB median)",
      own.map((n) => fmt(n, 2)).join(" / ") + (floor ? ` (one bare IndexedDB transaction: ${floor} ms)` : ""),
      "≤ 0.15, flat",
      own.every(Number.isFinite) ? own.every((n) => n <= 0.15) : null,
      stamp(block),
    ),
  ];
}

/** Shipped bytes, gzip and brotli, with and without the widget, beside the drop-ins. */
function sizeRows(block) {
  const all = rows(block);
  const find = (start) => all.find((r) => r[0].startsWith(start));
  const shipped = find("softpos, all shipped");
  const headless = find("softpos without the widget");
  const braintree = find("braintree-web-drop-in");
  const adyen = find("@adyen/adyen-web");
  const peers = [braintree, adyen]
    .filter(Boolean)
    .map((r) => `${r[0].split(" ")[0]} ${fmt(num(r[2]), 0)} / ${fmt(num(r[3]), 0)}`)
    .join("; ");
  const bytes = (r, target) => {
    const gzip = num(r?.[2]);
    return [`${fmt(gzip, 0)} / ${fmt(num(r?.[3]), 0)}`, Number.isFinite(gzip) ? gzip <= target : null];
  };
  const [withWidget, metWith] = bytes(shipped, 84000);
  const [without, metWithout] = bytes(headless, 64000);
  return [
    row(`shipped bytes gzip / brotli: wasm + glue + widget (peers, gzip / brotli: ${peers})`, withWidget, "gzip ≤ 84 000", metWith, stamp(block)),
    row("the same without the widget (`make pkg-headless`)", without, "gzip ≤ 64 000 (half of Braintree's drop-in)", metWithout, stamp(block)),
  ];
}

/** The targets table for a BENCHMARKS.md. */
export function targets(text) {
  const b = blocks(text);
  return [
    "| figure | now | target | met? | measured |",
    "|---|---|---|---|---|",
    ...hostRows(b.get("host")),
    ...settleRows(b.get("settle")),
    ...browserRows(b.get("per-sale")),
    ...sizeRows(b.get("size")),
  ].join("\n");
}

/** The file with its targets block rewritten (added after the title when it has none). */
export function withTargets(text) {
  const table = targets(text);
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start >= 0 && end > start) {
    return `${text.slice(0, start)}${START}\n${table}\n${text.slice(end)}`;
  }
  throw new Error(`no ${START} … ${END} block to write the targets into`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [path] = process.argv.slice(2);
  if (!path) {
    console.error("usage: bench-targets.mjs BENCHMARKS.md");
    process.exit(2);
  }
  writeFileSync(path, withTargets(readFileSync(path, "utf8")));
}
