// BENCHMARKS.md keeps every figure until a run measures it again. scripts/bench.sh writes a
// draft in which each set of figures sits between `<!-- figures NAME -->` and
// `<!-- end NAME -->`; a set this run did not measure holds the single line `(not run)`.
// This merges the draft with the old file: a measured set gets a line saying when and at which
// commit it was measured, and a set not measured is taken whole (with that line) from the old
// file. So `make bench-host`, or a run that skips a part, rewrites only its own figures.
//
//   node scripts/lib/bench-file.mjs OLD.md DRAFT.md "2026-12-05 09:40 UTC" abc1234 > NEW.md

import { existsSync, readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

export const NOT_RUN = "(not run)";
const OPEN = /^<!-- figures ([a-z0-9-]+) -->$/;

/** The sets of figures of a file: name → the lines between its markers. */
export function blocks(text) {
  const found = new Map();
  let name = null;
  let lines = [];
  for (const line of text.split("\n")) {
    const open = OPEN.exec(line);
    if (open) {
      name = open[1];
      lines = [];
    } else if (name !== null && line === `<!-- end ${name} -->`) {
      found.set(name, lines.join("\n"));
      name = null;
    } else if (name !== null) {
      lines.push(line);
    }
  }
  return found;
}

/** The draft with each measured set stamped and each set not run taken from the old file. */
export function merge(old, draft, date, commit) {
  const kept = blocks(old);
  const out = [];
  let name = null;
  let lines = [];
  for (const line of draft.split("\n")) {
    const open = OPEN.exec(line);
    if (open) {
      name = open[1];
      lines = [];
      out.push(line);
    } else if (name !== null && line === `<!-- end ${name} -->`) {
      const body = lines.join("\n").trim();
      if (body === NOT_RUN || body === "") {
        out.push(kept.has(name) ? kept.get(name) : NOT_RUN);
      } else {
        out.push(`*Measured ${date} at commit ${commit}.*`, "", body);
      }
      out.push(line);
      name = null;
    } else if (name !== null) {
      lines.push(line);
    } else {
      out.push(line);
    }
  }
  if (name !== null) throw new Error(`the set of figures "${name}" has no end marker`);
  return out.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [oldPath, draftPath, date, commit] = process.argv.slice(2);
  if (!draftPath || !date || !commit) {
    console.error("usage: bench-file.mjs OLD.md DRAFT.md DATE COMMIT");
    process.exit(2);
  }
  const old = existsSync(oldPath) ? readFileSync(oldPath, "utf8") : "";
  process.stdout.write(merge(old, readFileSync(draftPath, "utf8"), date, commit));
}
