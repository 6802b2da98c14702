// Builds the CLI, the app's server and the test worker scripts once per test run, into a temp folder, so e2e and
// multi-process tests run the same bundled code users run.
import { build } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    buildDir: string;
  }
}

let dir = "";

export async function setup(project: TestProject): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), "agent-router-build-"));
  await build({
    entryPoints: { cli: "src/entrypoints/cli/main.ts", app: "src/entrypoints/probot/main.ts", "ledger-writer": "test/fixtures/ledger-writer.ts" },
    outdir: dir,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    banner: { js: "import { createRequire as __arCreateRequire } from 'node:module'; const require = __arCreateRequire(import.meta.url);" },
    logLevel: "warning",
    loader: { ".md": "text" },
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
  });
  project.provide("buildDir", dir);
}

export function teardown(): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
