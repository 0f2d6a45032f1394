// The shipped module's imports under short names (issue "Performance", item 4): the wasm and
// the glue renamed alike, so the module still links (scripts/lib/short-imports.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const script = new URL("../../scripts/lib/short-imports.mjs", import.meta.url).pathname;

function name(s) {
  return [s.length, ...Buffer.from(s)];
}

// A module with two function imports of type () -> (), as wasm-bindgen names them.
function module(imports) {
  const types = [0x01, 0x60, 0x00, 0x00];
  const body = [imports.length];
  for (const field of imports) body.push(...name("./softpos_bg.js"), ...name(field), 0x00, 0x00);
  return Buffer.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, types.length, ...types,
    0x02, body.length, ...body,
  ]);
}

const glue = (a, b) =>
  [
    "function __wbg_get_imports() {",
    "    const import0 = {",
    `        ${a}: function() {`,
    "        },",
    `        ${b}: function() {`,
    "        },",
    "    };",
    '    return { "./softpos_bg.js": import0 };',
    "}",
  ].join("\n");

test("the imports are renamed alike in the wasm and the glue, and still link", () => {
  const dir = mkdtempSync(join(tmpdir(), "short-imports-"));
  const names = ["__wbg_setAttribute_f75317b2b5cabfb4", "__wbindgen_init_externref_table"];
  writeFileSync(join(dir, "softpos_bg.wasm"), module(names));
  writeFileSync(join(dir, "softpos.js"), glue(...names));
  execFileSync("node", [script, dir]);
  const wasm = new WebAssembly.Module(readFileSync(join(dir, "softpos_bg.wasm")));
  assert.deepEqual(WebAssembly.Module.imports(wasm), [
    { module: "a", name: "a", kind: "function" },
    { module: "a", name: "b", kind: "function" },
  ]);
  const js = readFileSync(join(dir, "softpos.js"), "utf8");
  assert.equal(js, glue("a", "b").replace('"./softpos_bg.js": import0', "a: import0"));
});

test("a glue without one of the imports is an error, and nothing is written", () => {
  const dir = mkdtempSync(join(tmpdir(), "short-imports-"));
  writeFileSync(join(dir, "softpos_bg.wasm"), module(["__wbg_x_0123456789abcdef", "__wbg_y"]));
  writeFileSync(join(dir, "softpos.js"), glue("__wbg_other", "__wbg_y"));
  assert.throws(() => execFileSync("node", [script, dir], { stdio: "pipe" }));
  // Nothing is written when the glue does not match.
  assert.equal(readFileSync(join(dir, "softpos.js"), "utf8"), glue("__wbg_other", "__wbg_y"));
});
