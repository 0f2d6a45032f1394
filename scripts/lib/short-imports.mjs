// The module's imports under short names: wasm-bindgen names each import after its JS function
// plus a 16-digit hash (`__wbg_setAttribute_f75317b2b5cabfb4`), from the module
// "./softpos_bg.js", and writes every name twice, in the wasm's import section and as a key of
// the glue's imports object. Hashes do not compress; this renames them `a`, `b`, … in both
// files, and the module `a` (about 2 KB gzipped). Only the imports object changes, which the
// glue builds and hands to WebAssembly.instantiate itself; the exports, which `init()` returns
// to the page, keep their names. Usage: node short-imports.mjs DIR (softpos_bg.wasm, softpos.js).
import { readFileSync, writeFileSync } from "node:fs";

const dir = process.argv[2];
const wasmPath = `${dir}/softpos_bg.wasm`;
const jsPath = `${dir}/softpos.js`;
const wasm = readFileSync(wasmPath);
let js = readFileSync(jsPath, "utf8");

function uleb(buf, pos) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = buf[pos++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, pos];
  }
}
function encUleb(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return Buffer.from(out);
}
function encName(s) {
  const b = Buffer.from(s, "utf8");
  return Buffer.concat([encUleb(b.length), b]);
}

const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const reserved = new Set(["do", "if", "in"]);
function* shortNames() {
  for (const a of letters) yield a;
  for (const a of letters) for (const b of letters) if (!reserved.has(a + b)) yield a + b;
}

const module = "./softpos_bg.js";
const names = shortNames();
const renamed = new Map();
const parts = [wasm.subarray(0, 8)];
let pos = 8;
let seen = false;
while (pos < wasm.length) {
  const id = wasm[pos];
  const [size, start] = uleb(wasm, pos + 1);
  const end = start + size;
  if (id !== 2) {
    parts.push(wasm.subarray(pos, end));
    pos = end;
    continue;
  }
  seen = true;
  let [count, p] = uleb(wasm, start);
  const body = [encUleb(count)];
  for (let i = 0; i < count; i++) {
    let len;
    [len, p] = uleb(wasm, p);
    const mod = wasm.toString("utf8", p, p + len);
    p += len;
    [len, p] = uleb(wasm, p);
    const field = wasm.toString("utf8", p, p + len);
    p += len;
    // The import's description: kind 0 (function) carries a type index; others are not expected.
    const kind = wasm[p];
    if (mod !== module || kind !== 0) throw new Error(`unexpected import ${mod} ${field} kind ${kind}`);
    const [, descEnd] = uleb(wasm, p + 1);
    if (!renamed.has(field)) renamed.set(field, names.next().value);
    body.push(encName("a"), encName(renamed.get(field)), wasm.subarray(p, descEnd));
    p = descEnd;
  }
  if (p !== end) throw new Error("import section not read to its end");
  const content = Buffer.concat(body);
  parts.push(Buffer.from([2]), encUleb(content.length), content);
  pos = end;
}
if (!seen) throw new Error("no import section");

function replaceOnce(from, to) {
  const at = js.indexOf(from);
  if (at < 0 || js.indexOf(from, at + 1) >= 0) throw new Error(`not exactly once in the glue: ${from}`);
  js = js.slice(0, at) + to + js.slice(at + from.length);
}
for (const [field, short] of renamed) replaceOnce(`\n        ${field}: function(`, `\n        ${short}: function(`);
replaceOnce(`"${module}": import0`, `a: import0`);

writeFileSync(wasmPath, Buffer.concat(parts));
writeFileSync(jsPath, js);
