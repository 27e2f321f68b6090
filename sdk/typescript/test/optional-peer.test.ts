// google-auth-library is an optional peer dependency and the AWS and Azure
// shapes are structural: the SDK, installed with its runtime dependencies
// only, loads and makes every provider but gcp(), which says what to install.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";

const sdkDir = resolve(import.meta.dirname, "..");

test("without google-auth-library installed: the SDK loads, aws() works, gcp() names the missing package", () => {
  const app = mkdtempSync(join(tmpdir(), "cc-no-gal-"));
  try {
    const own = join(app, "node_modules", "@cloudconn", "sdk");
    mkdirSync(own, { recursive: true });
    // Copies, not links: Node resolves a linked package's imports from where it really is.
    cpSync(join(sdkDir, "package.json"), join(own, "package.json"));
    cpSync(join(sdkDir, "dist"), join(own, "dist"), { recursive: true });
    for (const dep of ["@bufbuild/protobuf", "@connectrpc/connect", "@connectrpc/connect-node", "@connectrpc/connect-web"]) {
      const to = join(app, "node_modules", dep);
      mkdirSync(dirname(to), { recursive: true });
      symlinkSync(join(sdkDir, "node_modules", dep), to, "dir");
    }
    writeFileSync(
      join(app, "main.mjs"),
      `import { CloudConn, CloudConnError } from "@cloudconn/sdk";
const c = new CloudConn({ address: "http://127.0.0.1:1", token: "t", workspace: "w" }).cloud.credentials;
const input = { scope: "storage", consumer: "x" };
const out = { aws: typeof c.aws("a", input), azure: typeof c.azure("a", input).getToken };
try { c.gcp("a", input); out.gcp = "made"; } catch (e) { out.gcp = e instanceof CloudConnError ? e.reason + ": " + e.message : String(e); }
console.log(JSON.stringify(out));`,
    );
    const out = JSON.parse(execFileSync(process.execPath, ["main.mjs"], { cwd: app, encoding: "utf8" })) as Record<string, string>;
    assert.equal(out.aws, "function");
    assert.equal(out.azure, "function");
    assert.match(out.gcp ?? "", /^MISSING_DEPENDENCY: .*npm install google-auth-library/);
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
});
