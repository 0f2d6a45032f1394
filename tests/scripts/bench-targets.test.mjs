// BENCHMARKS.md sets every figure the performance work aims at beside its target, worked out
// from the sets of figures in the file (scripts/lib/bench-targets.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { targets, withTargets } from "../../scripts/lib/bench-targets.mjs";

const stamp = "*Measured 2026-12-05 19:20 UTC at commit e25b8fc.*";
const file = [
  "# Benchmarks",
  "<!-- targets -->",
  "stale table",
  "<!-- end targets -->",
  "<!-- figures host -->",
  stamp,
  "",
  "| database | terminals | approved sales/s | p50 ms | p99 ms | raw inserts/s | sales/s ÷ raw inserts/s |",
  "|---|---:|---:|---:|---:|---:|---:|",
  "| SQLite | 1 | 2000 | 0.5 | 2.0 | 8000 | 0.25 |",
  "| SQLite | 8 | 6000 | 2.0 | 5.6 | 8000 | 0.75 |",
  "| SQLite | 64 | 8000 | 13.5 | 27.3 | 8000 | 1.00 |",
  "",
  "| clients | `GET /healthz` requests/s | p50 ms |",
  "|---:|---:|---:|",
  "| 1 | 8000 | 0.09 |",
  "<!-- end host -->",
  "<!-- figures settle -->",
  stamp,
  "",
  "| entries | outcome | discrepancies | `settle()` ms, JS call to resolved promise |",
  "|---:|---|---:|---:|",
  "| 10000 | balanced | 0 | 43.9 |",
  "| 10000 | unbalanced | 1 | 397.0 |",
  "<!-- end settle -->",
  "<!-- figures size -->",
  "(not run)",
  "<!-- end size -->",
].join("\n");

const line = (table, start) => table.split("\n").find((l) => l.startsWith(`| ${start}`));

test("a ratio at or over its target is met, one under it missed", () => {
  const table = targets(file);
  assert.match(line(table, "SQLite: host sales/s"), /\| 0\.25 \/ 0\.75 \/ 1\.00 \(raw 8 000\/s\) \| 8 ≥ 0\.7; 64 ≥ 1\.0 \| met \| 2026-12-05 19:20 UTC, e25b8fc \|$/);
  assert.match(line(table, "settle 10 000 entries, balanced"), /\| 43\.9 \| ≤ 50 \| met \|/);
  assert.match(line(table, "settle 10 000 entries, unbalanced"), /\| 397\.0 \| ≤ 150 \| missed \|/);
});

test("one terminal is held to 1 / (1/http + 1/raw) of the same run", () => {
  // 2000 sales/s against 1 / (1/8000 + 1/8000) = 4000/s.
  assert.match(line(targets(file), "SQLite: one sequential terminal"), /\| 0\.50 \(2 000 sales\/s; http 8 000\/s, raw 8 000\/s\) \| ≥ 0\.8 \| missed \|/);
});

test("a set never measured invents no figure and no verdict", () => {
  const table = targets(file);
  assert.match(line(table, "PostgreSQL: host sales/s"), /\| — \/ — \/ — .*\| — \| 2026-12-05/);
  assert.match(line(table, "the same without the widget"), /\| — \/ — \| .* \| — \| never measured \|$/);
});

test("the block is rewritten in place and the rest of the file kept", () => {
  const out = withTargets(file);
  assert.ok(!out.includes("stale table"));
  assert.ok(out.startsWith("# Benchmarks\n<!-- targets -->\n| figure | now | target | met? | measured |"));
  assert.ok(out.endsWith(file.slice(file.indexOf("<!-- end targets -->"))));
  assert.throws(() => withTargets("# no block"), /no <!-- targets -->/);
});
