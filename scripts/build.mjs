// Bundles the entrypoints with esbuild. Output is ESM for Node 20+; bundled CommonJS
// dependencies get a `require` through the banner (see shared reference: bundling).
import { build } from "esbuild";
import { chmod } from "node:fs/promises";

const banner = "#!/usr/bin/env node\nimport { createRequire as __arCreateRequire } from 'node:module'; const require = __arCreateRequire(import.meta.url);";
const outdir = process.argv[2] ?? "dist";

await build({
  entryPoints: { cli: "src/entrypoints/cli/main.ts" },
  outdir,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  banner: { js: banner },
  logLevel: "warning",
  loader: { ".md": "text" },
  // The AI SDK is imported dynamically and only when a classifier is configured; splitting keeps it
  // out of the startup path of every other command.
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
});
await chmod(`${outdir}/cli.js`, 0o755);
