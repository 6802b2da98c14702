// Runs a TypeScript script on Node 20: bundles it with esbuild (dependencies stay external),
// then imports the result with the remaining arguments in process.argv.
import { build } from "esbuild";
import { mkdirSync } from "node:fs";
import { basename, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  console.error("usage: node scripts/run-ts.mjs <file.ts> [args…]");
  process.exit(2);
}
mkdirSync(".tmp", { recursive: true });
const outfile = resolve(".tmp", `${basename(entry, ".ts")}-${process.pid}.mjs`);
await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  logLevel: "warning",
  loader: { ".md": "text" },
});
process.argv = [process.argv[0], outfile, ...rest];
try {
  await import(pathToFileURL(outfile).href);
} finally {
  const { rmSync } = await import("node:fs");
  rmSync(outfile, { force: true });
}
