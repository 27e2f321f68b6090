// A tiny static server for dist/ (the tests' stand-in until cloudconn-server
// serves the Workbench itself): GET / → index.html, /assets/* → the file,
// anything else 404. Usage: node test/serve.mjs <port>; prints "listening".
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";

const root = new URL("../dist/", import.meta.url).pathname;
const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml" };
const port = Number(process.argv[2] ?? 0);

createServer(async (req, res) => {
  const path = new URL(req.url ?? "/", "http://x").pathname;
  const rel = path === "/" ? "index.html" : normalize(path).replace(/^\/+/, "");
  if (rel.startsWith("..") || (rel !== "index.html" && !rel.startsWith("assets/"))) {
    res.writeHead(404).end("not found");
    return;
  }
  try {
    const body = await readFile(join(root, rel));
    res.writeHead(200, {
      "content-type": types[extname(rel)] ?? "application/octet-stream",
      "cache-control": rel.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache",
      "x-content-type-options": "nosniff",
    });
    res.end(body);
  } catch {
    res.writeHead(404).end("not found");
  }
}).listen(port, "127.0.0.1", function () {
  console.log(`listening http://127.0.0.1:${this.address().port}`);
});
