// The Workbench's build: one index.html and hashed assets under /assets/,
// absolute paths (the server serves the page at `/`), no source maps, and
// nothing that depends on time or the machine (the committed dist/ must be
// what a fresh build makes).
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact", legalComments: "none" },
  resolve: {
    alias: { react: "preact/compat", "react-dom": "preact/compat" },
    // The SDK's browser build (gRPC-Web over fetch) through its export conditions.
    conditions: ["browser"],
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    target: "es2022",
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: { host: "127.0.0.1", port: 5173, strictPort: true },
  preview: { host: "127.0.0.1", port: 4173, strictPort: true },
});
