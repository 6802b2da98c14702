// Running the bundled CLI (built once by test/global-setup.ts) the way users run it.
import { realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { expect } from "vitest";
import { built, runNode, type ProcessResult } from "./processes.ts";

/**
 * The CLI's environment: no system or global git config (a user's commit.gpgsign or hooks must not
 * leak in), and git never searches above the temp folder, so "outside a repository" is reliable.
 */
export const CLI_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CEILING_DIRECTORIES: realpathSync(tmpdir()),
  GIT_TERMINAL_PROMPT: "0",
};

export function cli(cwd: string, ...args: string[]): Promise<ProcessResult> {
  return runNode(built("cli"), args, { cwd, env: CLI_ENV });
}

/** Runs the CLI and fails the test, showing its output, unless it exits 0. */
export async function ok(cwd: string, ...args: string[]): Promise<ProcessResult> {
  const r = await cli(cwd, ...args);
  expect(r.code, `agent-router ${args.join(" ")}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return r;
}
