// The main config loader (DESIGN.md, "Configuration"): defaults for anything left out, and every
// problem located by file, path and 1-based line, with "did you mean" hints for unknown keys.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { LocatedConfigProblem } from "../../../src/adapters/config-fs/load-config.ts";
import { CONFIG_PATH, formatConfigProblem, loadConfig, parseConfig } from "../../../src/adapters/config-fs/load-config.ts";
import { removeTempDirs, tempDir } from "../../support/git-repo.ts";

afterAll(removeTempDirs);

const FILE = ".github/agent-router.yml";

/** The defaults DESIGN.md documents, written out independently of the schema. */
const DEFAULTS = {
  agents: {},
  router: { fallback: { agent: "claude", profile: "feature" } },
  context: { maxTokens: 24_000, attempts: 3 },
  ledger: { branch: "agent-router/ledger", path: "ledger.yml", archiveAfterDays: 30 },
  execution: { parallelism: 4, maxAttempts: 3, executor: "inline", workflow: "agent-router.yml", retryBaseSeconds: 30, retryCapSeconds: 900, leaseMinutes: 5, keepRuns: 3 },
  delegation: { maxDepth: 3, maxChildren: 8, acl: { planner: ["feature", "bugfix", "docs", "tests", "refactor"] } },
  approvals: { allowSelf: false, expireDays: 7 },
  github: { triggerLabel: "agent", commandPrefix: "/agent", subIssues: true, closeOnDone: false, allowedBots: [], draftPullRequests: false, allowedLinkHosts: [] },
};

/** Lines joined with "\n" and a final newline, so a test reads like the file it describes. */
function yaml(...lines: string[]): string {
  return `${lines.join("\n")}\n`;
}

/** The problems as `path @ line`, sorted, for whole-set comparisons. */
function located(problems: readonly LocatedConfigProblem[]): string[] {
  return problems.map((p) => `${p.path.join(".")} @ ${p.line ?? "?"}`).sort();
}

function only(text: string): LocatedConfigProblem {
  const { problems } = parseConfig(text, FILE);
  expect(problems, JSON.stringify(problems)).toHaveLength(1);
  return problems[0]!;
}

describe("parseConfig: defaults", () => {
  it.each([
    ["an empty file", ""],
    ["a file with only comments", yaml("# nothing configured yet", "   # indented comment")],
    ["an explicit empty mapping", "{}\n"],
    ["a null document", "null\n"],
  ])("%s gives every default and no problems", (_name, text) => {
    const r = parseConfig(text, FILE);
    expect(r.problems).toEqual([]);
    expect(r.file).toBe(FILE);
    expect(r.config).toEqual(DEFAULTS);
  });

  it("fills defaults around the keys that are given", () => {
    const r = parseConfig(yaml("execution:", "  parallelism: 8", "ledger:", "  remote: upstream"), FILE);
    expect(r.problems).toEqual([]);
    expect(r.config.execution).toEqual({ ...DEFAULTS.execution, parallelism: 8 });
    expect(r.config.ledger).toEqual({ branch: "agent-router/ledger", path: "ledger.yml", archiveAfterDays: 30, remote: "upstream" });
    expect(r.config.github).toEqual(DEFAULTS.github);
  });

  it("fills an agent's own defaults and accepts a valid command agent", () => {
    const r = parseConfig(
      yaml(
        "agents:",
        "  claude: { models: { low: haiku, high: opus }, failover: [codex] }",
        "  my-agent:",
        "    type: command",
        "    command: [node, tools/agent.js]",
        "    failover: [claude]",
        "router:",
        "  fallback: { agent: my-agent }",
      ),
      FILE,
    );
    expect(r.problems).toEqual([]);
    expect(r.config.agents.claude).toEqual({ enabled: true, models: { low: "haiku", high: "opus" }, failover: ["codex"], args: [], env: [] });
    expect(r.config.agents["my-agent"]).toMatchObject({ enabled: true, type: "command", command: ["node", "tools/agent.js"], failover: ["claude"] });
    expect(r.config.router.fallback).toEqual({ agent: "my-agent", profile: "feature" });
  });

  it("returns the defaults, not a half-parsed config, when anything is invalid", () => {
    const r = parseConfig(yaml("execution:", "  parallelism: 8", "  maxAttempts: lots"), FILE);
    expect(r.problems).toHaveLength(1);
    expect(r.config).toEqual(DEFAULTS);
  });
});

describe("parseConfig: YAML syntax errors carry their line", () => {
  it.each([
    ["a tab used for indentation", yaml("ledger:", "\tbranch: a"), 2],
    ["a duplicate key", yaml("ledger:", "  branch: a", "ledger:", "  path: x.yml"), 3],
    ["an unterminated flow sequence", yaml("# comment", "agents:", "  claude:", "    failover: [codex", "execution:", "  parallelism: 2"), 5],
    ["a key at the wrong indentation", yaml("execution:", "  parallelism: 4", " maxAttempts: 2"), 3],
  ])("%s", (_name, text, line) => {
    const { problems, config } = parseConfig(text, FILE);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatchObject({ file: FILE, path: [], severity: "error", line });
    expect(problems[0]!.message).toMatch(/^YAML syntax: /);
    expect(config).toEqual(DEFAULTS);
  });
});

describe("parseConfig: schema errors carry the path and the line of the offending key", () => {
  it("locates several errors in one file, each on its own line", () => {
    const text = yaml(
      "execution: { parallelism: \"four\" }", // 1
      "ledger:", // 2
      "  branch: agent-router/ledger", // 3
      "  archiveAfterDays: -1", // 4
      "github:", // 5
      "  subIssues: maybe", // 6
      "  commandPrefix: agent", // 7
    );
    const { problems } = parseConfig(text, FILE);
    expect(located(problems)).toEqual(["execution.parallelism @ 1", "github.commandPrefix @ 7", "github.subIssues @ 6", "ledger.archiveAfterDays @ 4"].sort());
    expect(problems.every((p) => p.file === FILE && p.severity === "error")).toBe(true);
    expect(problems.find((p) => p.path.join(".") === "github.commandPrefix")?.message).toBe("a slash and a word, e.g. /agent");
  });

  it("locates errors deep inside agents, including sequence items in block and flow style", () => {
    const text = yaml(
      "agents:", // 1
      "  claude:", // 2
      "    models:", // 3
      "      low: \"\"", // 4
      "    failover: [codex, 5]", // 5
      "  codex:", // 6
      "    failover:", // 7
      "      - claude", // 8
      "      - 7", // 9
      "    timeoutMinutes: 0", // 10
    );
    const { problems } = parseConfig(text, FILE);
    expect(located(problems)).toEqual(
      ["agents.claude.models.low @ 4", "agents.claude.failover.1 @ 5", "agents.codex.failover.1 @ 9", "agents.codex.timeoutMinutes @ 10"].sort(),
    );
  });

  it("points a missing required key at its nearest parent", () => {
    const p = only(yaml("github:", "  triggerLabel: agent", "router:", "  classifier:", "    provider: anthropic"));
    expect(p).toMatchObject({ path: ["router", "classifier", "model"], line: 4, severity: "error" });
  });

  it("reports a wrong enum value, a bad URL and a bad ledger path on their lines", () => {
    const { problems } = parseConfig(
      yaml("execution:", "  executor: cloud", "router:", "  classifier:", "    provider: openai-compatible", "    model: m", "    baseURL: not a url", "ledger:", "  path: /abs.yml"),
      FILE,
    );
    expect(located(problems)).toEqual(["execution.executor @ 2", "ledger.path @ 9", "router.classifier.baseURL @ 7"].sort());
    expect(problems.find((p) => p.path.join(".") === "ledger.path")?.message).toBe("a relative path ending in .yml");
  });

  it("accepts link hosts and *.host patterns, and explains a bad one on its line", () => {
    const ok = parseConfig(yaml("github:", "  allowedLinkHosts: [docs.example.com, \"*.cdn.example.org\", Wiki.Acme.IO]"), FILE);
    expect(ok.problems).toEqual([]);
    expect(ok.config.github.allowedLinkHosts).toEqual(["docs.example.com", "*.cdn.example.org", "Wiki.Acme.IO"]);
    const bad = ["https://docs.example.com", "docs.example.com/path", "docs.example.com:8443", "*", "*.com", "localhost", "a..b.com", "user@docs.example.com", "*.*.example.com", "ex ample.com"];
    const { problems } = parseConfig(yaml("github:", "  allowedLinkHosts:", "    - docs.example.com", ...bad.map((h) => `    - ${JSON.stringify(h)}`)), FILE);
    expect(located(problems)).toEqual(bad.map((_, i) => `github.allowedLinkHosts.${i + 1} @ ${i + 4}`).sort());
    expect(problems[0]!.message).toBe("a host name such as docs.example.com, or *.example.com for its subdomains (no scheme, port or path)");
  });

  it("counts lines the same in a file with CRLF line endings", () => {
    const p = only("# windows\r\nledger:\r\n  branch: a\r\nexecution:\r\n  parallelism: 0\r\n");
    expect(p).toMatchObject({ path: ["execution", "parallelism"], line: 5 });
  });

  it("reports a document that is not a mapping at line 1", () => {
    expect(only("- a\n- b\n")).toMatchObject({ path: [], line: 1, severity: "error" });
    expect(only(yaml("# top comment", "just a string"))).toMatchObject({ path: [], line: 2 });
  });

  it("reports a section of the wrong type on its key's line", () => {
    expect(only(yaml("approvals:", "  allowSelf: false", "ledger: 5"))).toMatchObject({ path: ["ledger"], line: 3 });
  });
});

describe("parseConfig: unknown keys", () => {
  it.each([
    ["at the top level", yaml("agents: {}", "ledgr:", "  branch: x"), ["ledgr"], 2, "ledger"],
    ["in a section", yaml("execution:", "  paralelism: 2"), ["execution", "paralelism"], 2, "parallelism"],
    ["in an agent (through the record of agents)", yaml("agents:", "  claude:", "    modles: { low: haiku }"), ["agents", "claude", "modles"], 3, "models"],
    ["in an agent's models", yaml("agents:", "  codex:", "    models:", "      hgh: gpt-5"), ["agents", "codex", "models", "hgh"], 4, "high"],
    ["in a nested optional object", yaml("github:", "  project: { owner: me, number: 3, statusfield: S }"), ["github", "project", "statusfield"], 2, "statusField"],
    ["in the router fallback", yaml("router:", "  fallback:", "    agnet: codex"), ["router", "fallback", "agnet"], 3, "agent"],
  ])("%s gets a did-you-mean hint", (_name, text, path, line, suggestion) => {
    const p = only(text);
    expect(p).toMatchObject({ file: FILE, path, line, severity: "error" });
    expect(p.message).toBe(`unknown key "${path.at(-1) as string}" (did you mean "${suggestion}"?)`);
  });

  it("lists the known keys when nothing is close", () => {
    const p = only(yaml("ledger: {}", "zzzzzzzzzzzz: 1"));
    expect(p).toMatchObject({ path: ["zzzzzzzzzzzz"], line: 2 });
    expect(p.message).toBe('unknown key "zzzzzzzzzzzz" (known keys: agents, router, context, ledger, execution, delegation, approvals, github)');
    const nested = only(yaml("approvals:", "  something-else: true"));
    expect(nested.message).toBe('unknown key "something-else" (known keys: allowSelf, expireDays)');
  });

  it("reports every unknown key and every other error together", () => {
    const { problems } = parseConfig(yaml("ledgr: {}", "executon: {}", "github:", "  subIssues: maybe"), FILE);
    expect(located(problems)).toEqual(["executon @ 2", "github.subIssues @ 4", "ledgr @ 1"].sort());
    expect(problems.find((p) => p.path[0] === "executon")?.message).toContain('did you mean "execution"');
  });

  it("reports an invalid agent name at the agent's line", () => {
    const p = only(yaml("agents:", "  claude: {}", "  My_Agent:", "    type: command", "    command: [x]"));
    expect(p).toMatchObject({ path: ["agents", "My_Agent"], line: 3, severity: "error" });
  });

  // Regression: zod's invalid_key issue once hid the schema's explanation of valid agent names.
  it("explains what a valid agent name is", () => {
    const p = only(yaml("agents:", "  My_Agent:", "    type: command", "    command: [x]"));
    expect(p.message).toContain("lower-case letters, digits and dashes");
  });
});

describe("parseConfig: rules across fields (checkConfigRules) with paths and lines", () => {
  it("a non-built-in agent without type: command", () => {
    const p = only(yaml("agents:", "  claude: {}", "  aider:", "    command: [aider]"));
    expect(p).toMatchObject({ path: ["agents", "aider", "type"], line: 3, severity: "error" });
    expect(p.message).toContain('"aider" is not a built-in agent');
    const typed = only(yaml("agents:", "  aider:", "    type: builtin", "    command: [aider]"));
    expect(typed).toMatchObject({ path: ["agents", "aider", "type"], line: 3 });
  });

  it("type: command without a command", () => {
    const p = only(yaml("agents:", "  mine:", "    type: command", "    args: [--fast]"));
    expect(p).toMatchObject({ path: ["agents", "mine", "command"], line: 2, severity: "error" });
    expect(p.message).toContain("a command agent needs command");
  });

  it("failover to an unknown agent and to itself, on the item's line", () => {
    const { problems } = parseConfig(yaml("agents:", "  codex:", "    failover:", "      - claude", "      - nope", "      - codex"), FILE);
    expect(problems.map((p) => ({ path: p.path, line: p.line, message: p.message }))).toEqual([
      { path: ["agents", "codex", "failover", 1], line: 5, message: 'unknown agent "nope" in failover' },
      { path: ["agents", "codex", "failover", 2], line: 6, message: "an agent cannot fail over to itself" },
    ]);
  });

  it("failover to an agent defined elsewhere in the file is fine", () => {
    const r = parseConfig(yaml("agents:", "  claude: { failover: [mine] }", "  mine: { type: command, command: [m] }"), FILE);
    expect(r.problems).toEqual([]);
  });

  it("an unknown fallback agent", () => {
    const p = only(yaml("github: {}", "router:", "  fallback:", "    profile: docs", "    agent: ghost"));
    expect(p).toMatchObject({ path: ["router", "fallback", "agent"], line: 5, severity: "error", message: 'unknown agent "ghost"' });
  });

  it("a disabled fallback agent", () => {
    const p = only(yaml("agents:", "  opencode: { enabled: false }", "router:", "  fallback: { agent: opencode }"));
    expect(p).toMatchObject({ path: ["router", "fallback", "agent"], line: 4, severity: "error" });
    expect(p.message).toBe('the fallback agent "opencode" is disabled');
  });

  it("disabling the default fallback agent is reported even though router is not in the file", () => {
    const p = only(yaml("agents:", "  claude:", "    enabled: false"));
    expect(p).toMatchObject({ path: ["router", "fallback", "agent"], severity: "error", message: 'the fallback agent "claude" is disabled' });
    // No router key to point at: the line falls back to the start of the document.
    expect(p.line).toBe(1);
  });

  it("archiveAfterDays: 0 is a warning, not an error, and keeps the parsed config", () => {
    const r = parseConfig(yaml("ledger:", "  archiveAfterDays: 0"), FILE);
    expect(r.problems).toEqual([{ file: FILE, path: ["ledger", "archiveAfterDays"], severity: "warning", message: "0 archives finished tasks on the next write", line: 2 }]);
    expect(r.config.ledger.archiveAfterDays).toBe(0);
  });

  it("reports several rule problems at once", () => {
    const text = yaml(
      "agents:", // 1
      "  foo: {}", // 2
      "  bar:", // 3
      "    type: command", // 4
      "  claude:", // 5
      "    failover: [nope, claude]", // 6
      "router:", // 7
      "  fallback:", // 8
      "    agent: ghost", // 9
    );
    expect(located(parseConfig(text, FILE).problems)).toEqual(
      ["agents.foo.type @ 2", "agents.bar.command @ 3", "agents.claude.failover.0 @ 6", "agents.claude.failover.1 @ 6", "router.fallback.agent @ 9"].sort(),
    );
  });
});

describe("formatConfigProblem", () => {
  it("names file, line and path", () => {
    const p = only(yaml("execution:", "  parallelism: 0"));
    expect(formatConfigProblem(p)).toBe(`${FILE}:2 execution.parallelism: Too small: expected number to be >=1`);
    expect(formatConfigProblem({ file: FILE, path: [], severity: "error", message: "m" })).toBe(`${FILE} (top level): m`);
  });
});

describe("loadConfig", () => {
  it("a repository without the file gets every default and exists: false", async () => {
    const dir = tempDir();
    const r = await loadConfig(dir);
    expect(r).toEqual({ config: DEFAULTS, file: CONFIG_PATH, exists: false, problems: [] });
    expect(CONFIG_PATH).toBe(FILE);
  });

  it("reads .github/agent-router.yml under the root, with its problems located", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, ".github"));
    writeFileSync(join(dir, FILE), yaml("execution:", "  parallelism: 2", "ledgr: {}"));
    const r = await loadConfig(dir);
    expect(r.exists).toBe(true);
    expect(r.file).toBe(FILE);
    expect(r.problems).toEqual([{ file: FILE, path: ["ledgr"], severity: "error", message: 'unknown key "ledgr" (did you mean "ledger"?)', line: 3 }]);
  });

  it("a valid file is parsed", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, ".github"));
    writeFileSync(join(dir, FILE), yaml("execution:", "  parallelism: 2"));
    const r = await loadConfig(dir);
    expect(r).toMatchObject({ exists: true, problems: [] });
    expect(r.config.execution.parallelism).toBe(2);
  });

  it("a read error other than a missing file is thrown, not taken for defaults", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, FILE), { recursive: true }); // a directory where the file should be
    await expect(loadConfig(dir)).rejects.toMatchObject({ code: "EISDIR" });
  });
});
