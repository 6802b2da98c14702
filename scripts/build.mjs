// Bundles the entrypoints with esbuild. Output is ESM for Node 20+; bundled CommonJS
// dependencies get a `require` through the banner (see shared reference: bundling).
//
//   node scripts/build.mjs [outdir]        # dist/cli.js, dist/app.js, dist/app-lib.js (+ chunks) and dist/action.js
//   node scripts/build.mjs --cli-only      # all but dist/action.js (npm install's prepare: the committed action stays as it is)
//   node scripts/build.mjs --check-action  # fails when the committed dist/action.js is not what the sources build
//
// dist/action.js is committed (a GitHub Action runs it with no install step), so it is one file
// with everything inlined; the CLI splits the AI SDK into a chunk loaded only when classifying.
import { build } from "esbuild";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const banner = "#!/usr/bin/env node\nimport { createRequire as __arCreateRequire } from 'node:module'; const require = __arCreateRequire(import.meta.url);";
const common = { bundle: true, platform: "node", format: "esm", target: "node20", banner: { js: banner }, logLevel: "warning", loader: { ".md": "text" } };

async function buildCli(outdir) {
  await build({
    ...common,
    // The CLI, the GitHub App's server (`npm run start:app`) and the app as a library
    // (`agent-router/app`: createNodeMiddleware, createRouterApp, routerProbotApp), sharing chunks.
    entryPoints: { cli: "src/entrypoints/cli/main.ts", app: "src/entrypoints/probot/main.ts", "app-lib": "src/entrypoints/probot/index.ts" },
    outdir,
    sourcemap: "linked",
    // The AI SDK is imported dynamically and only when a classifier is configured; splitting keeps it
    // out of the startup path of every other command.
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
  });
  await chmod(`${outdir}/cli.js`, 0o755);
}

/** The Action: one file, no source map (it is committed; a map would double the diff of every change). */
async function buildAction(outfile) {
  // Whitespace and syntax minified (identifiers kept, so stack traces stay readable): under 3 MB.
  await build({ ...common, entryPoints: ["src/entrypoints/action/main.ts"], outfile, legalComments: "none", minifyWhitespace: true, minifySyntax: true });
}

if (process.argv[2] === "--check-action") {
  const dir = await mkdtemp(join(tmpdir(), "ar-action-"));
  try {
    await buildAction(join(dir, "action.js"));
    const [built, committed] = await Promise.all([readFile(join(dir, "action.js")), readFile("dist/action.js").catch(() => null)]);
    if (committed === null || !built.equals(committed)) {
      process.stderr.write("dist/action.js is stale: it is not what the sources build. Run `npm run build` and commit dist/action.js.\n");
      process.exit(1);
    }
    process.stdout.write("dist/action.js is current\n");
  } finally {
    await rm(dir, { recursive: true });
  }
} else if (process.argv[2] === "--cli-only") {
  await buildCli("dist");
} else {
  const outdir = process.argv[2] ?? "dist";
  await buildCli(outdir);
  await buildAction(join(outdir, "action.js"));
}
