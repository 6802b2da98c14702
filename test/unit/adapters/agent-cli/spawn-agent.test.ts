// The shared spawner on its own, with the output-agent fixture (test/fixtures/agents): UTF-8 across
// reads, the stdout line cap, the head-and-tail cut, and errors that name what was tried.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { spawnAgent, type SpawnRequest } from "../../../../src/adapters/agent-cli/spawn-agent.ts";

const AGENT = join(import.meta.dirname, "../../../fixtures/agents/output-agent.mjs");
const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin" };

function run(argv: SpawnRequest["argv"], extra: Partial<SpawnRequest> = {}): Promise<{ lines: string[] } & Awaited<ReturnType<typeof spawnAgent>>> {
  const lines: string[] = [];
  return spawnAgent({ argv, cwd: import.meta.dirname, env, timeoutMs: 20_000, onStdoutLine: (l) => lines.push(l), ...extra }).then((r) => ({ ...r, lines }));
}

describe("spawnAgent", () => {
  it("decodes a character whose bytes straddle the 64 KB read boundary", async () => {
    const r = await run([process.execPath, AGENT, "split-utf8"]);
    expect(r.exitCode).toBe(0);
    const expected = `${"a".repeat(65_535)}é`;
    expect(r.lines).toEqual([expected, "next"]);
    expect(r.stdout).toBe(`${expected}\nnext\n`);
  });

  it("skips a stdout line longer than the cap instead of buffering it, and keeps the lines around it", async () => {
    const r = await run([process.execPath, AGENT, "long-line"], { maxLineLength: 1024 * 1024, maxCapture: 64 * 1024 });
    expect(r.exitCode).toBe(0);
    expect(r.lines).toEqual(["first", "last"]);
    expect(r.skippedLines).toBe(1);
  });

  it("cuts the capture between whole UTF-8 characters and counts what it dropped", async () => {
    // 3-byte characters: the cuts at 8 KB fall inside one; the whole character goes, and is counted.
    const text = "€".repeat(10_000);
    const r = await run([process.execPath, "-e", `process.stdout.write(${JSON.stringify(text)})`], { maxCapture: 16 * 1024 });
    const m = /^(€*)\n\[… (\d+) bytes dropped …\]\n(€*)$/.exec(r.stdout);
    expect(m).not.toBeNull();
    const [, head, dropped, tail] = m!;
    expect(r.droppedBytes).toEqual({ stdout: Number(dropped), stderr: 0 });
    expect((head!.length + tail!.length) * 3 + Number(dropped)).toBe(30_000);
    expect(head!.length * 3).toBeLessThanOrEqual(8 * 1024);
    expect(tail!.length * 3).toBeLessThanOrEqual(8 * 1024);
  });

  it.each([
    ["an absolute path", "/nonexistent/agent-bin", "/nonexistent/agent-bin: not found"],
    ["a name looked up on PATH", "no-such-agent-cli", `no-such-agent-cli: not found on PATH (${env.PATH})`],
  ])("names what it tried when the executable is missing (%s)", async (_name, file, message) => {
    const r = await run([file]);
    expect(r.spawnError).toBe(message);
    expect(r.exitCode).toBeNull();
  });

  it("says so when the working directory is what is missing", async () => {
    const r = await run([process.execPath, AGENT, "bad-handoff"], { cwd: "/nonexistent/workdir" });
    expect(r.spawnError).toBe(`${process.execPath}: not started, the working directory /nonexistent/workdir does not exist`);
  });
});
