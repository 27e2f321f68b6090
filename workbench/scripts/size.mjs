// Prints the gzipped size of the JavaScript index.html loads at start (its
// module scripts and their modulepreloads) and fails above the budget.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const BUDGET = 200 * 1024;
const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const srcs = [...html.matchAll(/<(?:script[^>]*\bsrc|link[^>]*rel="modulepreload"[^>]*\bhref)="([^"]+\.js)"/g)].map((m) => m[1]);
if (srcs.length === 0) {
  console.error("size: index.html loads no JavaScript?");
  process.exit(1);
}
let raw = 0;
let gz = 0;
for (const src of new Set(srcs)) {
  const buf = readFileSync(join(dist, src.replace(/^\//, "")));
  const g = gzipSync(buf, { level: 9 }).length;
  raw += buf.length;
  gz += g;
  console.log(`size: ${src} ${(buf.length / 1024).toFixed(1)} KiB, ${(g / 1024).toFixed(1)} KiB gzipped`);
}
console.log(`size: initial JavaScript ${(gz / 1024).toFixed(1)} KiB gzipped (${(raw / 1024).toFixed(1)} KiB raw), budget ${BUDGET / 1024} KiB`);
if (gz > BUDGET) {
  console.error(`size: over the budget by ${((gz - BUDGET) / 1024).toFixed(1)} KiB`);
  process.exit(1);
}
