// tiktoken (npm, WASM build of openai/tiktoken) encode_ordinary throughput on the same documents
// as bpe_bench.cpp: node bench/bpe_tiktoken.mjs [--runs N] FILE_OR_DIR...
// Needs `npm install` in bench/ (package.json pins tiktoken); the gpt2 ranks ship in the package.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { get_encoding } from "tiktoken";

let runs = 5;
const docs = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; ++i) {
  if (args[i] === "--runs") { runs = Number(args[++i]); continue; }
  if (statSync(args[i]).isDirectory()) {
    for (const f of readdirSync(args[i]).filter((f) => f.endsWith(".txt")).sort())
      docs.push(readFileSync(join(args[i], f)));
  } else {
    docs.push(readFileSync(args[i]));
  }
}
const bytes = docs.reduce((n, d) => n + d.length, 0);
const texts = docs.map((d) => d.toString("utf8"));
const enc = get_encoding("gpt2");
for (const t of texts) enc.encode_ordinary(t);  // warm up the WASM JIT
const mbs = [];
let tokens = 0;
for (let r = 0; r < runs; ++r) {
  const t0 = process.hrtime.bigint();
  tokens = 0;
  for (const t of texts) tokens += enc.encode_ordinary(t).length;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  mbs.push(bytes / s / 1e6);
}
mbs.sort((a, b) => a - b);
const med = runs % 2 ? mbs[(runs - 1) / 2] : (mbs[runs / 2 - 1] + mbs[runs / 2]) / 2;
console.log(`RESULT tiktoken encode_ordinary 1-thread ${med.toFixed(2)} MB/s (median of ${runs}), ${docs.length} docs, ${bytes} bytes, ${tokens} tokens`);
enc.free();
