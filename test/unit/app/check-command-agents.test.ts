// validate's check that each enabled command agent's program can be started: a bare name must be on
// PATH, a path must be an executable file (relative paths start at the repository root). Real files
// in a temp folder, found by the real lookup.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findExecutable } from "../../../src/adapters/system/find-executable.ts";
import { commandAgentWarnings } from "../../../src/app/check-command-agents.ts";
import { MainConfig } from "../../../src/core/config/main-config.ts";
import { removeTempDirs, tempDir } from "../../support/git-repo.ts";

afterAll(removeTempDirs);

function layout(): { repo: string; bin: string } {
  const repo = tempDir();
  const bin = tempDir("ar-bin-");
  writeFileSync(join(bin, "my-agent"), "#!/bin/sh\n");
  chmodSync(join(bin, "my-agent"), 0o755);
  writeFileSync(join(bin, "not-executable"), "#!/bin/sh\n");
  mkdirSync(join(repo, "tools"));
  writeFileSync(join(repo, "tools/agent.sh"), "#!/bin/sh\n");
  chmodSync(join(repo, "tools/agent.sh"), 0o755);
  return { repo, bin };
}

const config = (agents: Record<string, object>) => MainConfig.parse({ agents });

describe("commandAgentWarnings with findExecutable", () => {
  it("warns for a program on no PATH directory and a path with no executable file; not for found ones", async () => {
    const { repo, bin } = layout();
    const c = config({
      onpath: { type: "command", command: ["my-agent", "--flag"] },
      relative: { type: "command", command: ["./tools/agent.sh"] },
      bare: { type: "command", command: ["tools/agent.sh"] },
      absolute: { type: "command", command: [join(bin, "my-agent")] },
      missing: { type: "command", command: ["no-such-agent-cli"] },
      noexec: { type: "command", command: ["not-executable"] },
      gone: { type: "command", command: ["./tools/missing.sh"] },
      off: { type: "command", command: ["also-missing"], enabled: false },
    });
    const warnings = await commandAgentWarnings(c, (program) => findExecutable(program, repo, `/nonexistent-dir:${bin}`));
    expect(warnings).toEqual([
      { path: ["agents", "missing", "command", 0], severity: "warning", message: '"no-such-agent-cli" is not on PATH; the agent cannot start until it is installed, or give its path' },
      { path: ["agents", "noexec", "command", 0], severity: "warning", message: '"not-executable" is not on PATH; the agent cannot start until it is installed, or give its path' },
      { path: ["agents", "gone", "command", 0], severity: "warning", message: '"./tools/missing.sh" is not an executable file (a relative path starts at the repository root); the agent cannot start' },
    ]);
  });

  it("finds a bare name only on PATH, not in the working folder", async () => {
    const { repo, bin } = layout();
    expect(await findExecutable("my-agent", repo, bin)).toBe(join(bin, "my-agent"));
    expect(await findExecutable("my-agent", bin, "")).toBeNull();
    expect(await findExecutable("tools", repo, repo)).toBeNull(); // a directory is not a program
    expect(await findExecutable("./tools/agent.sh", repo, "")).toBe(join(repo, "tools/agent.sh"));
  });
});
