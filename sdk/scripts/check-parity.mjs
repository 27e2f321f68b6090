// Checks the SDK parity table in docs/sdks.md (between the parity markers)
// against the code, so it cannot lie: every proto RPC has a row; every
// TypeScript, Go and Java cell names a public method that exists in that
// SDK's source ("—": not wrapped), and every public method is in the table;
// every .NET cell is the method Grpc.Tools generates for the row's RPC.
// Run by each SDK's scripts/test.sh.  Usage: node sdk/scripts/check-parity.mjs
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");
const read = (p) => readFileSync(join(root, p), "utf8");
const matches = (text, re) => [...text.matchAll(re)].map((m) => m[1]);

const rpcs = matches(read("proto/cloudconn/v1/connection_service.proto"), /^\s*rpc (\w+)\(/gm);

// Each SDK's public operations, as the table's cells spell them.
const goFiles = readdirSync(join(root, "sdk/go")).filter((f) => f.endsWith(".go") && !f.endsWith("_test.go"));
const goSource = goFiles.map((f) => read(`sdk/go/${f}`)).join("\n");
const sdks = {
  TypeScript: [
    ...matches(read("sdk/typescript/src/connections.ts"), /^ {2}async \*?(\w+)\(/gm).map((m) => `cloud.connections.${m}`),
    ...matches(read("sdk/typescript/src/client.ts"), /^ {2}async (\w+)\(/gm),
    ...matches(read("sdk/typescript/src/credentials.ts"), /^ {2}async (\w+)\(/gm).map((m) => `cloud.credentials.${m}`),
    ...matches(read("sdk/typescript/src/audit.ts"), /^ {2}async (\w+)\(/gm).map((m) => `cloud.audit.${m}`),
  ],
  Go: [
    ...matches(goSource, /^func \(\w+ \*Connections\) ([A-Z]\w*)\(/gm).map((m) => `Cloud.Connections.${m}`),
    ...matches(goSource, /^func \(\w+ \*CredentialsService\) ([A-Z]\w*)\(/gm).map((m) => `Cloud.Credentials.${m}`),
    ...matches(goSource, /^func \(\w+ \*Client\) ([A-Z]\w*)\(/gm).filter((m) => m !== "Close"),
  ],
  // Overloads (completeConnection with and without options) are one operation.
  Java: [...new Set(matches(read("sdk/java/src/main/java/dev/cloudconn/sdk/CloudService.java"), /^ {2}public (?!static)[\w<>, ]+ (\w+)\(/gm))],
};

const doc = read("docs/sdks.md");
const table = doc.match(/<!-- parity:begin -->([\s\S]*?)<!-- parity:end -->/)?.[1];
const problems = [];
if (!table) {
  problems.push("docs/sdks.md has no <!-- parity:begin --> … <!-- parity:end --> table");
} else {
  const rows = table.split("\n").filter((l) => l.startsWith("|")).map((l) => l.split("|").slice(1, -1).map((c) => c.trim()));
  const header = rows[0].map((h) => h.split(" ")[0]);
  const col = (name) => header.indexOf(name);
  for (const name of ["TypeScript", "Go", "Java", ".NET"]) {
    if (col(name) < 0) problems.push(`the table has no ${name} column`);
  }
  const cell = (c) => c.replace(/`/g, "").replace(/\(.*$/, "").trim();
  const seen = Object.fromEntries(Object.keys(sdks).map((k) => [k, new Set()]));
  const rowRpcs = new Set();
  for (const row of rows.slice(2)) {
    const rpc = row[0].match(/`(\w+)`/)?.[1];
    if (!rpc || !rpcs.includes(rpc)) {
      problems.push(`row "${row[0]}" names no RPC of the proto`);
      continue;
    }
    rowRpcs.add(rpc);
    for (const [sdk, methods] of Object.entries(sdks)) {
      const m = cell(row[col(sdk)]);
      if (m === "—") continue;
      if (!methods.includes(m)) problems.push(`${sdk}: "${m}" (row ${rpc}) is not a public method of the SDK`);
      seen[sdk].add(m);
    }
    if (cell(row[col(".NET")]) !== `${rpc}Async`) problems.push(`.NET: row ${rpc} must read ${rpc}Async`);
  }
  for (const rpc of rpcs.filter((r) => !rowRpcs.has(r))) problems.push(`RPC ${rpc} has no row`);
  for (const [sdk, methods] of Object.entries(sdks)) {
    for (const m of methods.filter((m) => !seen[sdk].has(m))) problems.push(`${sdk}: public method ${m} is not in the table`);
  }
}
if (problems.length > 0) {
  console.error(`docs/sdks.md's SDK parity table disagrees with the code:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`SDK parity table: ${rpcs.length} RPCs, ${Object.values(sdks).flat().length} SDK methods, all in docs/sdks.md`);
