// The worker's agent CLI installer, with npm installing a local tarball (no network): a CLI on PATH
// is used as it is; a missing one is installed once into the cache and put first on PATH; a failed
// install says what to do and leaves no half-made folder. The pinned table matches the test suite's.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ensureAgentCli } from "../../src/adapters/agent-cli/install-cli.ts";
import { PINNED_CLIS } from "../../src/core/agents/pinned-clis.ts";
import { isRouterError } from "../../src/core/errors.ts";
import { removeTempDirs, tempDir } from "../support/git-repo.ts";
// @ts-expect-error: a plain .mjs script without types
import { AGENT_CLIS } from "../../scripts/install-agent-clis.mjs";

afterEach(removeTempDirs);

/** A tiny package with a `fakecli` binary, packed into a tarball npm can install offline. */
function fakeCliTarball(): string {
  const dir = tempDir("ar-fakecli-");
  mkdirSync(join(dir, "bin"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "fakecli", version: "1.2.3", bin: { fakecli: "bin/fakecli.js" } }));
  writeFileSync(join(dir, "bin/fakecli.js"), "#!/usr/bin/env node\nconsole.log('fakecli 1.2.3');\n");
  chmodSync(join(dir, "bin/fakecli.js"), 0o755);
  const out = tempDir("ar-fakecli-pack-");
  execFileSync("npm", ["pack", "--silent", "--pack-destination", out], { cwd: dir, stdio: "ignore" });
  return join(out, readdirSync(out)[0]!);
}

const env = (path = process.env["PATH"]) => ({ PATH: path, HOME: process.env["HOME"], npm_config_cache: join(tempDir("ar-npm-cache-"), "c"), npm_config_offline: "true" });

describe("ensureAgentCli", () => {
  it("installs a missing CLI once into the cache and puts it first on PATH; an agent without a pinned CLI needs nothing", { timeout: 120_000 }, async () => {
    const clis = [{ agent: "fake", pkg: "fakecli", version: "1.2.3", bin: "fakecli", source: fakeCliTarball() }];
    const cache = tempDir("ar-cli-cache-");
    const first = await ensureAgentCli("fake", env(), cache, { clis });
    expect(first.installed).toBe(true);
    const bin = join(cache, "fakecli-1.2.3", "node_modules", ".bin");
    expect(first.path?.split(delimiter)[0]).toBe(bin);
    expect(execFileSync(join(bin, "fakecli"), { encoding: "utf8" }).trim()).toBe("fakecli 1.2.3");
    expect(await ensureAgentCli("fake", env(), cache, { clis })).toEqual({ path: first.path, installed: false });
    expect(await ensureAgentCli("example", env("/usr/bin"), cache, { clis })).toEqual({ path: "/usr/bin", installed: false });
  });

  it("uses a CLI already on PATH as it is", async () => {
    const dir = tempDir("ar-onpath-");
    writeFileSync(join(dir, "fakecli"), "#!/bin/sh\n");
    const clis = [{ agent: "fake", pkg: "fakecli", version: "1.2.3", bin: "fakecli", source: "/nonexistent.tgz" }];
    expect(await ensureAgentCli("fake", env(`${dir}${delimiter}/usr/bin`), tempDir(), { clis })).toEqual({ path: `${dir}${delimiter}/usr/bin`, installed: false });
  });

  it("a failed install is E_USAGE naming the package and the fix, and leaves no folder behind", { timeout: 120_000 }, async () => {
    const cache = tempDir("ar-cli-cache-");
    const clis = [{ agent: "fake", pkg: "fakecli", version: "9.9.9", bin: "fakecli", source: join(cache, "missing.tgz") }];
    await expect(ensureAgentCli("fake", env(), cache, { clis })).rejects.toSatisfy((e: unknown) => isRouterError(e) && /could not install fakecli@9\.9\.9 for agent fake/.test(e.message) && /npm registry/.test(e.fix ?? ""));
    expect(readdirSync(cache)).toEqual([]);
    expect(existsSync(join(cache, "fakecli-9.9.9"))).toBe(false);
  });

  it("pins the same versions as the test suite's installer", () => {
    expect(PINNED_CLIS.map(({ pkg, version, bin }) => ({ pkg, version, bin }))).toEqual(AGENT_CLIS);
  });
});
