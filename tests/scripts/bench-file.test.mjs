// BENCHMARKS.md never loses a figure (issue "Performance", item 5): a run that skips a part
// keeps that part's old figures with their date and commit (scripts/lib/bench-file.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { blocks, merge, NOT_RUN } from "../../scripts/lib/bench-file.mjs";

const old = [
  "# Benchmarks",
  "<!-- figures size -->",
  "*Measured 2026-12-01 10:00 UTC at commit aaaaaaa.*",
  "",
  "| size | 84 182 |",
  "<!-- end size -->",
  "<!-- figures host -->",
  "*Measured 2026-12-01 10:00 UTC at commit aaaaaaa.*",
  "",
  "| host | 0.27 |",
  "<!-- end host -->",
  "<!-- history -->",
].join("\n");

test("a set of figures not run keeps the old figures with their stamp", () => {
  const draft = `# Benchmarks\n<!-- figures size -->\n${NOT_RUN}\n<!-- end size -->\n<!-- figures host -->\n| host | 0.31 |\n<!-- end host -->`;
  const out = blocks(merge(old, draft, "2026-12-05 09:40 UTC", "bbbbbbb"));
  assert.equal(out.get("size"), "*Measured 2026-12-01 10:00 UTC at commit aaaaaaa.*\n\n| size | 84 182 |");
  assert.equal(out.get("host"), "*Measured 2026-12-05 09:40 UTC at commit bbbbbbb.*\n\n| host | 0.31 |");
});

test("a set never measured says so instead of inventing figures", () => {
  const draft = `<!-- figures core -->\n${NOT_RUN}\n<!-- end core -->`;
  assert.equal(blocks(merge(old, draft, "d", "c")).get("core"), NOT_RUN);
});

test("text outside the sets is the draft's, and a set left open is an error", () => {
  const draft = `# New title\n<!-- figures size -->\n| size | 1 |\n<!-- end size -->\ntail`;
  const out = merge(old, draft, "d", "c");
  assert.ok(out.startsWith("# New title\n"));
  assert.ok(out.endsWith("\ntail"));
  assert.throws(() => merge(old, "<!-- figures size -->\n| x |", "d", "c"), /no end marker/);
});
