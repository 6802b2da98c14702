// The bundled `agent-router` CLI, run as users run it (node dist/cli.js …) in throwaway git
// repositories: init, add, list, show, validate, sync, usage errors and -C. No network: the
// "remote" in the sync tests is a bare repository on disk.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { parseConfig } from "../../src/adapters/config-fs/load-config.ts";
import { GitLedgerStore } from "../../src/adapters/ledger-git/git-ledger-store.ts";
import type { TaskEvent } from "../../src/core/ledger/events.ts";
import type { Task } from "../../src/core/ledger/task.ts";
import { transition } from "../../src/core/ledger/transition.ts";
import { makeRemoteWithClones, makeRepo, removeTempDirs, sh, tempDir } from "../support/git-repo.ts";
import { cli, CLI_ENV as ENV, ok } from "../support/cli.ts";

afterAll(removeTempDirs);

const BRANCH = "agent-router/ledger";
const REF = `refs/heads/${BRANCH}`;
const CONFIG = ".github/agent-router.yml";

async function json<T>(cwd: string, ...args: string[]): Promise<T> {
  return JSON.parse((await ok(cwd, ...args)).stdout) as T;
}

/** git with stdin, for the plumbing the tests use to plant hand-made ledger commits. */
function gitIn(cwd: string, args: string[], input?: string): string {
  return execFileSync("git", args, { cwd, input, encoding: "utf8", env: ENV, stdio: ["pipe", "pipe", "pipe"] }).trimEnd();
}

function head(repo: string, ref = REF): string {
  return sh(repo, "rev-parse", "--verify", "-q", ref);
}

function ledgerText(repo: string, ref = REF): string {
  return gitIn(repo, ["cat-file", "blob", `${ref}:ledger.yml`]) + "\n";
}

/** A commit on top of `parent` whose tree is just `ledger.yml` with `text`, made with plumbing. */
function commitLedger(repo: string, text: string, parent: string): string {
  const blob = gitIn(repo, ["hash-object", "-w", "--stdin"], text);
  const tree = gitIn(repo, ["mktree"], `100644 blob ${blob}\tledger.yml\n`);
  return gitIn(repo, ["commit-tree", tree, "-p", parent, "-m", "hand edit"]);
}

/** 1-based line of the `nth` (0-based) line of `text` that starts with `prefix`. */
function lineStarting(text: string, prefix: string, nth = 0): number {
  const hits = text
    .split("\n")
    .map((l, i) => [l, i + 1] as const)
    .filter(([l]) => l.startsWith(prefix));
  const hit = hits[nth];
  if (!hit) throw new Error(`no line #${nth} starting with ${JSON.stringify(prefix)}`);
  return hit[1];
}

/** Moves task `id` through `events` with the real state machine, committed through the real store. */
async function advance(repo: string, id: number, events: TaskEvent[]): Promise<void> {
  const store = new GitLedgerStore({ cwd: repo, branch: BRANCH, path: "ledger.yml" });
  const { ledger, head: at } = await store.read();
  const ctx = { now: new Date().toISOString(), traceId: `00-${"c".repeat(32)}-${"d".repeat(16)}-01`, by: "cli:tester" };
  let task = ledger.tasks.find((t) => t.id === id);
  if (!task) throw new Error(`no task ${id}`);
  for (const event of events) task = transition(task, event, ctx).task;
  const done = task;
  const out = await store.write({ ledger: { ...ledger, tasks: ledger.tasks.map((t) => (t.id === id ? done : t)) }, message: `test: advance task ${id}` }, at);
  expect(out.ok).toBe(true);
}

describe.concurrent("init", () => {
  it("creates the config and the ledger branch, leaves the working tree, index and current branch alone, and is idempotent", async () => {
    const repo = makeRepo();
    const mainBefore = head(repo, "refs/heads/main");
    expect(sh(repo, "status", "--porcelain")).toBe("");

    const first = await ok(repo, "init");
    expect(first.stdout).toBe(`created ${CONFIG}\ncreated ledger.yml on branch ${BRANCH}\n`);
    expect(first.stderr).toBe("");

    const configText = readFileSync(join(repo, CONFIG), "utf8");
    expect(parseConfig(configText, CONFIG).problems).toEqual([]);
    const ledgerHead = head(repo);
    expect(sh(repo, "ls-tree", "--name-only", REF)).toBe("ledger.yml");
    expect(YAML.parse(ledgerText(repo))).toEqual({ schemaVersion: 1, nextId: 1, tasks: [], jobs: {}, deliveries: [] });
    expect(sh(repo, "rev-list", "--count", REF)).toBe("1");

    // Nothing else changed for the user: only the new, untracked config; same branch, same commit.
    expect(sh(repo, "status", "--porcelain")).toBe("?? .github/");
    expect(sh(repo, "symbolic-ref", "--short", "HEAD")).toBe("main");
    expect(head(repo, "refs/heads/main")).toBe(mainBefore);
    expect(sh(repo, "diff", "--cached", "--name-only")).toBe("");

    const again = await ok(repo, "init");
    expect(again.stdout).toBe(`${CONFIG} exists; left as it is\nledger.yml on branch ${BRANCH} exists; left as it is\n`);
    expect(head(repo)).toBe(ledgerHead);
    expect(readFileSync(join(repo, CONFIG), "utf8")).toBe(configText);
    expect(sh(repo, "status", "--porcelain")).toBe("?? .github/");
    expect(sh(repo, "symbolic-ref", "--short", "HEAD")).toBe("main");
  });

  it("keeps a user's staged and unstaged changes exactly as they were", async () => {
    const repo = makeRepo();
    writeFileSync(join(repo, "staged.txt"), "staged\n");
    sh(repo, "add", "staged.txt");
    writeFileSync(join(repo, "README.md"), "# project\nedited, not staged\n");
    writeFileSync(join(repo, "scratch.txt"), "untracked\n");
    const statusBefore = sh(repo, "status", "--porcelain");
    const stagedBefore = sh(repo, "diff", "--cached");
    const unstagedBefore = sh(repo, "diff");

    await ok(repo, "init");
    expect(sh(repo, "status", "--porcelain").split("\n").sort()).toEqual([...statusBefore.split("\n"), "?? .github/"].sort());
    expect(sh(repo, "diff", "--cached")).toBe(stagedBefore);
    expect(sh(repo, "diff")).toBe(unstagedBefore);
    expect(readFileSync(join(repo, "README.md"), "utf8")).toBe("# project\nedited, not staged\n");
  });
});

describe("add, list and show", () => {
  it("add prints the new id, --json prints the task, ids go 1, 2, 3", async () => {
    const repo = makeRepo();
    await ok(repo, "init");
    const one = await ok(repo, "add", "first task", "--body", "what to do\nin two lines", "--label", "a", "--label", "b");
    expect(one.stdout).toBe("task 1 added: first task\n");
    expect(one.stderr).toBe("");

    const two = await json<Task>(repo, "add", "second task", "--json");
    expect(two).toMatchObject({ id: 2, title: "second task", body: "", labels: [], status: "new", source: { kind: "cli" }, attempts: [], children: [] });
    expect(two.history).toHaveLength(1);
    expect(two.history[0]).toMatchObject({ type: "created", to: "new" });
    expect(two.history[0]?.by).toMatch(/^cli:/);

    const three = await ok(repo, "add", "-b", "short", "-l", "x", "third task");
    expect(three.stdout).toBe("task 3 added: third task\n");

    const shown = await json<Task>(repo, "show", "1", "--json");
    expect(shown).toMatchObject({ id: 1, title: "first task", body: "what to do\nin two lines", labels: ["a", "b"], status: "new" });
    expect((await json<Task[]>(repo, "list", "--json")).map((t) => [t.id, t.title])).toEqual([
      [1, "first task"],
      [2, "second task"],
      [3, "third task"],
    ]);
    // One ledger commit per change, and the user's tree still only has the config.
    expect(sh(repo, "rev-list", "--count", REF)).toBe("4");
    expect(sh(repo, "status", "--porcelain")).toBe("?? .github/");
  });

  it("titles, bodies and labels with unicode, newlines, quotes and YAML syntax round-trip through show --json", async () => {
    const repo = makeRepo();
    await ok(repo, "init");
    const titles = [
      "héllo wörld — ünïcode 日本語 🚀 é\u0301",
      "line one\nline two\n\nline four",
      `she said "hi" and 'bye' \\"escaped\\"`,
      "key: value # not a comment",
      "- starts like a list item: yes",
      "[not, a, list] {a: b} *alias &anchor !tag %x @y `z` |",
      "null",
      "0x1F",
      "back\\slash \\n and a\ttab",
      "ends with a colon:",
    ];
    const ids: number[] = [];
    for (const title of titles) {
      const task = await json<Task>(repo, "add", "--json", "--body", `${title}\n--\n${title}`, "--label", title.slice(0, 12), "--", title);
      expect(task.title).toBe(title);
      ids.push(task.id);
    }
    expect(ids).toEqual(titles.map((_, i) => i + 1));
    const shown = await Promise.all(ids.map((id) => json<Task>(repo, "show", String(id), "--json")));
    expect(shown.map((t) => t.title)).toEqual(titles);
    expect(shown.map((t) => t.body)).toEqual(titles.map((t) => `${t}\n--\n${t}`));
    expect(shown.map((t) => t.labels)).toEqual(titles.map((t) => [t.slice(0, 12)]));
    // The stored file is still a valid ledger by the CLI's own reading.
    const v = await ok(repo, "validate");
    expect(v.stderr).toBe("");
  });

  describe("on a ledger with new, done and cancelled tasks", () => {
    let repo = "";
    beforeAll(async () => {
      repo = makeRepo();
      await ok(repo, "init");
      await ok(repo, "add", "first", "--label", "docs");
      await ok(repo, "add", "second", "--body", "line 1\nline 2");
      await ok(repo, "add", "third");
      const leaseUntil = new Date(Date.now() + 3_600_000).toISOString();
      await advance(repo, 2, [
        { type: "route", route: { agent: "claude", model: "sonnet", profile: "feature", complexity: "medium", reason: "label agent:claude", decidedBy: "rule" } },
        { type: "start", key: "k-2-1", agent: "claude", model: "sonnet", leaseUntil },
        { type: "finish", key: "k-2-1", outcome: "done", summary: "did it" },
      ]);
      await advance(repo, 3, [{ type: "cancel", reason: "not needed" }]);
    });

    it("list prints a table of every task", async () => {
      const r = await ok(repo, "list");
      const lines = r.stdout.trimEnd().split("\n");
      expect(lines).toHaveLength(4);
      expect(lines[0]).toMatch(/^ID\s+STATUS\s+AGENT\s+UPDATED \(UTC\)\s+TITLE$/);
      expect(lines[1]).toMatch(/^1\s+new\s+-\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+first$/);
      expect(lines[2]).toMatch(/^2\s+done\s+claude\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+second$/);
      expect(lines[3]).toMatch(/^3\s+cancelled\s+-\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+third$/);
      // Columns line up.
      const col = (lines[0] ?? "").indexOf("TITLE");
      expect(lines.slice(1).map((l) => l.slice(col))).toEqual(["first", "second", "third"]);
    });

    it("list --json prints every task", async () => {
      const tasks = await json<Task[]>(repo, "list", "--json");
      expect(tasks.map((t) => [t.id, t.status])).toEqual([
        [1, "new"],
        [2, "done"],
        [3, "cancelled"],
      ]);
      expect(tasks[1]?.route).toMatchObject({ agent: "claude", model: "sonnet" });
    });

    it("list --status filters by one or more statuses", async () => {
      const [newAndDone, cancelled, running, repeated] = await Promise.all([
        json<Task[]>(repo, "list", "--status", "new,done", "--json"),
        ok(repo, "list", "-s", "cancelled"),
        ok(repo, "list", "--status", "running"),
        json<Task[]>(repo, "list", "--status", "cancelled", "--status", "new", "--json"),
      ]);
      expect(newAndDone.map((t) => t.id)).toEqual([1, 2]);
      expect(cancelled.stdout.trimEnd().split("\n").slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["3"]);
      expect(running.stdout).toBe("no tasks\n");
      expect(repeated.map((t) => t.id)).toEqual([1, 3]);
    });

    it("show ID prints the fields and the history in order", async () => {
      const r = await ok(repo, "show", "2");
      expect(r.stdout).toContain("task 2: second\n");
      expect(r.stdout).toMatch(/^status:\s+done$/m);
      expect(r.stdout).toMatch(/^source:\s+command line$/m);
      expect(r.stdout).toMatch(/^labels:\s+-$/m);
      expect(r.stdout).toMatch(/^route:\s+claude \(sonnet\), profile feature, medium, by rule: label agent:claude$/m);
      expect(r.stdout).toMatch(/^attempts:\s+1 \(max 3 failed\)$/m);
      expect(r.stdout).toMatch(/^ {2}#1 claude\/sonnet \S+ → \S+ success$/m);
      expect(r.stdout).toMatch(/^ {2}line 1\n {2}line 2$/m);
      const history = r.stdout.slice(r.stdout.indexOf("\nhistory:\n") + "\nhistory:\n".length).trimEnd().split("\n");
      expect(history.map((l) => l.trim().split(/\s+/)[1])).toEqual(["created", "route", "start", "finish"]);
      expect(history[0]).toMatch(/created\s+new\s+by cli:/);
      expect(history[3]).toMatch(/finish\s+running → done\s+by cli:tester/);
      const first = await ok(repo, "show", "1");
      expect(first.stdout).toMatch(/^labels:\s+docs$/m);
      expect(first.stdout).toMatch(/^route:\s+-$/m);
    });

    it("show ID --json prints the task as stored", async () => {
      const store = new GitLedgerStore({ cwd: repo, branch: BRANCH, path: "ledger.yml" });
      const stored = (await store.read()).ledger.tasks.find((t) => t.id === 3);
      expect(await json<Task>(repo, "show", "3", "--json")).toEqual(stored);
    });

    it("show of a task that does not exist exits 1 with E_TASK_NOT_FOUND", async () => {
      const r = await cli(repo, "show", "999");
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^error \[E_TASK_NOT_FOUND\]: no task 999 in ledger\.yml on branch agent-router\/ledger\n {2}fix: /);
    });

    it("validate exits 0 on tasks moved through the state machine", async () => {
      const r = await ok(repo, "validate");
      expect(r.stdout).toBe(`ok: ${CONFIG}, profiles, routing rules, classifier template, jobs and ledger.yml on branch ${BRANCH} are valid\n`);
      // The cancelled task was never routed, so its replay matches even key for key.
      expect(r.stderr).not.toContain("task 3");
    });

    // Regression: replay was once compared by JSON.stringify, so key order alone raised a warning.
    it("validate gives no replay warning for tasks moved through the state machine", async () => {
      const r = await ok(repo, "validate");
      expect(r.stderr).toBe("");
    });
  });
});

describe("validate: the config", () => {
  it("lists problems in a repository's own profiles and routing rules with file and line", async () => {
    const repo = makeRepo();
    mkdirSync(join(repo, ".github/agent-router/profiles"), { recursive: true });
    mkdirSync(join(repo, ".github/agent-router/router"), { recursive: true });
    writeFileSync(join(repo, ".github/agent-router/profiles/docs.yml"), "name: docs\ndescription: d\nrole: r\ninstructions: i\napproval: sometimes\n");
    writeFileSync(join(repo, ".github/agent-router/router/routes.yml"), "rules:\n  - name: a\n    when: { labels: [x] }\n    then: { profile: nope }\n");
    const r = await cli(repo, "validate");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: .github/agent-router/profiles/docs.yml:5 approval: Invalid option");
    expect(r.stderr).toContain('error: .github/agent-router/router/routes.yml:4 rules[0].then.profile: rule a: unknown profile "nope"');
  });

  it("exits 0 with the defaults when there is no config file and no ledger yet", async () => {
    const repo = makeRepo();
    const r = await ok(repo, "validate");
    expect(r.stdout).toBe(`ok: default config (no ${CONFIG}), profiles, routing rules, classifier template, jobs and ledger.yml on branch ${BRANCH} are valid\n`);
    expect(existsSync(join(repo, ".github"))).toBe(false);
  });

  describe("with a broken config", () => {
    let repo = "";
    let ledgerHead = "";
    beforeAll(async () => {
      repo = makeRepo();
      await ok(repo, "init");
      ledgerHead = head(repo);
    });

    it("lists every schema problem with file and line, with a did-you-mean hint, and add refuses", async () => {
      writeFileSync(
        join(repo, CONFIG),
        [
          "# my config", // 1
          'execution: { parallelism: "four" }', // 2
          "ledgr:", // 3
          "  branch: elsewhere", // 4
          "github:", // 5
          "  commandPrefix: agent", // 6
          "",
        ].join("\n"),
      );
      const r = await cli(repo, "validate");
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      const errors = r.stderr.trimEnd().split("\n");
      expect(errors).toHaveLength(3);
      expect(errors).toContain(`error: ${CONFIG}:2 execution.parallelism: Invalid input: expected number, received string`);
      expect(errors).toContain(`error: ${CONFIG}:3 ledgr: unknown key "ledgr" (did you mean "ledger"?)`);
      expect(errors).toContain(`error: ${CONFIG}:6 github.commandPrefix: a slash and a word, e.g. /agent`);

      const add = await cli(repo, "add", "should not be written");
      expect(add.code).toBe(1);
      expect(add.stderr).toContain(`error [E_CONFIG_INVALID]: ${CONFIG} is invalid:`);
      expect(add.stderr).toContain(`${CONFIG}:3 ledgr: unknown key`);
      expect(head(repo)).toBe(ledgerHead);
    });

    it("reports a YAML syntax error with its line", async () => {
      writeFileSync(join(repo, CONFIG), ["execution:", "  parallelism: 4", " maxAttempts: 2", ""].join("\n"));
      const r = await cli(repo, "validate");
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^error: ${CONFIG.replace(/\./g, "\\.")}:3 \\(top level\\): YAML syntax: `));
      expect(r.stdout).toBe("");
    });

    it("reports rules across fields with their lines", async () => {
      writeFileSync(join(repo, CONFIG), ["agents:", "  aider: { command: [aider] }", "router:", "  fallback: { agent: ghost }", ""].join("\n"));
      const r = await cli(repo, "validate");
      expect(r.code).toBe(1);
      expect(r.stderr.trimEnd().split("\n")).toEqual([
        `error: ${CONFIG}:2 agents.aider.type: "aider" is not a built-in agent (claude, codex, opencode); add type: command and a command`,
        `error: ${CONFIG}:4 router.fallback.agent: unknown agent "ghost"`,
      ]);
    });

    it("passes with warnings only, and prints them", async () => {
      writeFileSync(join(repo, CONFIG), ["ledger:", "  archiveAfterDays: 0", ""].join("\n"));
      const r = await cli(repo, "validate");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^ok: /);
      expect(r.stderr).toMatch(/^warning: .*agent-router\.yml:2 ledger\.archiveAfterDays: .*0 archives finished tasks on the next write\n$/);
    });

    // Regression: warnings were once prefixed twice.
    it("prints the word warning once per warning", async () => {
      writeFileSync(join(repo, CONFIG), ["ledger:", "  archiveAfterDays: 0", ""].join("\n"));
      const r = await cli(repo, "validate");
      expect(r.stderr.match(/warning:/g)).toHaveLength(1);
    });

    it("warns, and still passes, when a command agent's program is not on PATH or not a file", async () => {
      writeFileSync(join(repo, CONFIG), ["agents:", "  mine: { type: command, command: [no-such-agent-cli, --go] }", "  local: { type: command, command: [./tools/agent.sh] }", "  fine: { type: command, command: [node, agent.mjs] }", ""].join("\n"));
      const r = await cli(repo, "validate");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^ok: /);
      expect(r.stderr.trimEnd().split("\n")).toEqual([
        `warning: ${CONFIG} agents.mine.command[0]: "no-such-agent-cli" is not on PATH; the agent cannot start until it is installed, or give its path`,
        `warning: ${CONFIG} agents.local.command[0]: "./tools/agent.sh" is not an executable file (a relative path starts at the repository root); the agent cannot start`,
      ]);
    });
  });
});

describe("validate and add on a corrupted ledger", () => {
  let repo = "";
  let good = "";
  let goodText = "";

  beforeAll(async () => {
    repo = makeRepo();
    await ok(repo, "init");
    await ok(repo, "add", "first", "--body", "plain body", "--label", "a", "--label", "b");
    await ok(repo, "add", "second");
    good = head(repo);
    goodText = ledgerText(repo);
  });

  /** Plants `text` as a new commit on the ledger branch, the way a bad hand edit or a torn push would. */
  function plant(text: string): string {
    expect(head(repo)).toBe(good);
    const bad = commitLedger(repo, text, good);
    sh(repo, "update-ref", REF, bad, good);
    return bad;
  }

  const restoreCommand = (bad: string): string => `git update-ref ${REF} ${good} ${bad}`;

  /** Runs the restore command the CLI printed, checking it is the one we expect. */
  function restoreAsTold(stderr: string, bad: string): void {
    const command = /^\s*(git update-ref \S+ \S+ \S+)$/m.exec(stderr)?.[1];
    expect(command).toBe(restoreCommand(bad));
    const [, ...args] = (command as string).split(" ");
    sh(repo, ...args);
    expect(head(repo)).toBe(good);
  }

  interface Corruption {
    name: string;
    corrupt: (text: string) => string;
    /** The problem line the CLI must print (after `ledger.yml:`), from the corrupted text. */
    expected: (text: string) => string | RegExp;
  }

  const cases: Corruption[] = [
    {
      name: "truncated in the middle of a value",
      corrupt: (t) => t.slice(0, t.indexOf("    status: new", t.indexOf("  - id: 2")) + "    status: n".length),
      expected: (t) => `ledger.yml:${lineStarting(t, "    status:", 1)} tasks[1].status: Invalid option`,
    },
    {
      name: "invalid YAML",
      corrupt: (t) => t.replace("    title: first\n", "    title: first: second: third\n"),
      expected: (t) => `ledger.yml:${lineStarting(t, "    title: first: second")} (top level): YAML syntax: `,
    },
    {
      name: "duplicate task ids",
      corrupt: (t) => t.replace("  - id: 2\n", "  - id: 1\n"),
      expected: (t) => `ledger.yml:${lineStarting(t, "  - id: 1", 1)} tasks[1].id: duplicate task id 1 (also at tasks[0])`,
    },
    {
      name: "an unknown schemaVersion",
      corrupt: (t) => t.replace(/^schemaVersion: 1$/m, "schemaVersion: 2"),
      expected: () => "ledger.yml:1 schemaVersion: unknown schemaVersion 2; this agent-router reads version 1",
    },
    {
      name: "a wrong type at the top level",
      corrupt: (t) => t.replace(/^nextId: 3$/m, 'nextId: "x"'),
      expected: () => "ledger.yml:2 nextId: Invalid input: expected number, received string",
    },
    {
      name: "a wrong value inside a task",
      corrupt: (t) => t.replace("    status: new\n", "    status: bogus\n"),
      expected: (t) => `ledger.yml:${lineStarting(t, "    status: bogus")} tasks[0].status: Invalid option`,
    },
  ];

  it.each(cases)("$name: validate exits 1 naming line, path and the restore command; add refuses and writes nothing", async ({ corrupt, expected }) => {
    const text = corrupt(goodText);
    expect(text).not.toBe(goodText);
    const bad = plant(text);
    const commits = sh(repo, "rev-list", "--count", "--all");
    const status = sh(repo, "status", "--porcelain");

    const v = await cli(repo, "validate");
    expect(v.code).toBe(1);
    expect(v.stdout).toBe("");
    expect(v.stderr).toMatch(new RegExp(`^error: ledger\\.yml on branch agent-router/ledger \\(commit ${bad.slice(0, 12)}\\) is invalid; nothing was written:`));
    const want = expected(text);
    if (typeof want === "string") expect(v.stderr).toContain(`  ${want}`);
    else expect(v.stderr).toMatch(want);
    expect(v.stderr).toContain(restoreCommand(bad));
    expect(head(repo)).toBe(bad);

    const add = await cli(repo, "add", "must not land");
    expect(add.code).toBe(1);
    expect(add.stdout).toBe("");
    expect(add.stderr).toMatch(/^error \[E_LEDGER_INVALID\]: /);
    expect(add.stderr).toContain(restoreCommand(bad));
    expect(head(repo)).toBe(bad);
    expect(ledgerText(repo)).toBe(text.endsWith("\n") ? text : `${text}\n`);
    expect(sh(repo, "rev-list", "--count", "--all")).toBe(commits);
    expect(sh(repo, "status", "--porcelain")).toBe(status);

    restoreAsTold(v.stderr, bad);
  });

  it("after the printed restore command the ledger is valid and writable again", async () => {
    expect(head(repo)).toBe(good);
    const v = await ok(repo, "validate");
    expect(v.stderr).toBe("");
    const add = await ok(repo, "add", "after restore");
    expect(add.stdout).toBe("task 3 added: after restore\n");
    // Keep the rest of this block on the same good head.
    sh(repo, "update-ref", REF, good, head(repo));
  });

  // Regression: an item parsed on its own once reported lines counted from the item, or from its end.
  it("a YAML syntax error names one line, the right one", async () => {
    const text = goodText.replace("    title: first\n", '    title: "first\n');
    const bad = plant(text);
    try {
      const v = await cli(repo, "validate");
      expect(v.code).toBe(1);
      const line = lineStarting(text, '    title: "first');
      expect(v.stderr).toContain(`ledger.yml:${line} (top level): YAML syntax: `);
      const mentioned = [...v.stderr.matchAll(/at line (\d+)/g)].map((m) => Number(m[1]));
      expect(mentioned.every((n) => n === line)).toBe(true);
    } finally {
      sh(repo, "update-ref", REF, good, bad);
    }
  });

  // Regression: a file cut off mid-line whose remains were schema-valid was once accepted and written over.
  it("a ledger truncated mid-line is refused even when the rest parses", async () => {
    const cut = goodText.indexOf("traceId: 00-", goodText.indexOf("  - id: 2")) + "traceId: 00-".length + 8;
    const text = goodText.slice(0, cut);
    const bad = plant(text);
    try {
      const v = await cli(repo, "validate");
      expect(v.code).toBe(1);
      const add = await cli(repo, "add", "must not land");
      expect(add.code).toBe(1);
      expect(head(repo)).toBe(bad);
    } finally {
      sh(repo, "update-ref", REF, good);
    }
  });
});

describe.concurrent("usage", () => {
  const verbs = ["init", "add", "list", "show", "validate", "sync"];

  it("--help on the program and on every verb exits 0 and prints usage", async () => {
    const dir = tempDir(); // not a repository: help needs none
    const runs = await Promise.all([cli(dir, "--help"), ...verbs.map((v) => cli(dir, v, "--help"))]);
    const [program, ...perVerb] = runs;
    expect(program?.code).toBe(0);
    expect(program?.stdout).toMatch(/^Usage: agent-router \[options\] \[command\]/);
    for (const v of verbs) expect(program?.stdout).toMatch(new RegExp(`^ {2}${v}\\b`, "m"));
    expect(program?.stdout).toContain("-C, --cwd <dir>");
    perVerb.forEach((r, i) => {
      const verb = verbs[i] as string;
      expect({ verb, code: r.code, stderr: r.stderr }).toEqual({ verb, code: 0, stderr: "" });
      expect(r.stdout).toMatch(new RegExp(`^Usage: agent-router ${verb} \\[options\\]`));
    });
    expect(perVerb[1]?.stdout).toContain("--label <name>");
    expect(perVerb[2]?.stdout).toContain("--status <statuses>");
    expect(perVerb[5]?.stdout).toContain("--remote <name>");
  });

  it.each([
    ["an unknown flag", ["--bogus"], /^error: unknown option '--bogus'/],
    ["an unknown flag on a verb", ["list", "--bogus"], /^error: unknown option '--bogus'/],
    ["an unknown verb", ["frobnicate"], /^error: unknown command 'frobnicate'/],
    ["a task id that is not a number", ["show", "abc"], /^error: .*'abc'.*a task id is a positive whole number/],
    ["a task id of 0", ["show", "0"], /a task id is a positive whole number/],
    ["an unknown status", ["list", "--status", "bogus"], /^error: .*unknown status bogus; one of new, routed/],
    ["one unknown status among good ones", ["list", "--status", "new,nope"], /unknown status nope/],
    ["a missing title", ["add"], /^error: missing required argument 'title'/],
    ["a missing id", ["show"], /^error: missing required argument 'id'/],
    ["a flag without its value", ["add", "t", "--body"], /^error: option '-b, --body <text>' argument missing/],
    ["too many arguments", ["add", "a", "b"], /^error: too many arguments for 'add'/],
  ])("%s exits 2 with a one-line error", async (_name, args, message) => {
    const repo = tempDir();
    const r = await cli(repo, ...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
    expect(r.stderr.endsWith("\n")).toBe(true);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(readdirSync(repo)).toEqual([]);
  });
});

describe.concurrent("sync", () => {
  it("two clones with different tasks end with the same ledger, unique ids, and the remote equal to both", async () => {
    const { bare, clones } = makeRemoteWithClones(2);
    const [a, b] = clones as [string, string];
    await Promise.all([ok(a, "init"), ok(b, "init")]);
    await Promise.all([
      (async () => {
        await ok(a, "add", "A1");
        await ok(a, "add", "A2", "--label", "from-a");
      })(),
      (async () => {
        await ok(b, "add", "B1", "--body", "made in b");
        await ok(b, "add", "B2");
      })(),
    ]);

    const pushed = await ok(a, "sync");
    expect(pushed.stdout).toMatch(/^agent-router\/ledger: pushed at [0-9a-f]{12}\n$/);
    const merged = await ok(b, "sync");
    expect(merged.stdout).toMatch(/^agent-router\/ledger: merged at [0-9a-f]{12}; renumbered local tasks 1→3, 2→4\n$/);
    const pulled = await ok(a, "sync");
    expect(pulled.stdout).toMatch(/^agent-router\/ledger: pulled at [0-9a-f]{12}\n$/);
    const again = await ok(b, "sync");
    expect(again.stdout).toMatch(/^agent-router\/ledger: up-to-date at [0-9a-f]{12}\n$/);

    const [inA, inB] = await Promise.all([json<Task[]>(a, "list", "--json"), json<Task[]>(b, "list", "--json")]);
    expect(inA).toEqual(inB);
    expect(inA.map((t) => [t.id, t.title])).toEqual([
      [1, "A1"],
      [2, "A2"],
      [3, "B1"],
      [4, "B2"],
    ]);
    expect(new Set(inA.map((t) => t.id)).size).toBe(4);
    expect(inA.find((t) => t.title === "B1")?.body).toBe("made in b");
    expect(inA.find((t) => t.title === "A2")?.labels).toEqual(["from-a"]);

    const remoteHead = head(bare);
    expect(head(a)).toBe(remoteHead);
    expect(head(b)).toBe(remoteHead);
    expect(merged.stdout).toContain(remoteHead.slice(0, 12));
    // The next id continues after the merged tasks, and renumbered tasks still validate.
    const store = new GitLedgerStore({ cwd: a, branch: BRANCH, path: "ledger.yml" });
    expect((await store.read()).ledger.nextId).toBe(5);
    const [va, vb] = await Promise.all([ok(a, "validate"), ok(b, "validate")]);
    expect(va.stderr + vb.stderr).toBe("");
    // Nothing was forced: the remote history contains both clones' original ledger commits.
    for (const clone of [a, b]) {
      const firstWrite = sh(clone, "rev-list", "--max-parents=0", REF).split("\n");
      expect(firstWrite.length).toBe(2);
    }
    // The users' working trees only got the config file.
    expect(sh(a, "status", "--porcelain")).toBe("?? .github/");
    expect(sh(b, "status", "--porcelain")).toBe("?? .github/");
  });

  it("without a remote named origin exits 1 with a clear message and changes nothing", async () => {
    const repo = makeRepo();
    await ok(repo, "init");
    const before = head(repo);
    const r = await cli(repo, "sync");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe('error: no git remote named "origin"; add one with `git remote add origin <url>` or pass --remote\n');
    expect(head(repo)).toBe(before);
  });

  it("outside a git repository exits 1 with 'not inside a git repository' and creates nothing", async () => {
    const dir = tempDir();
    const [list, init, sync] = await Promise.all([cli(dir, "list"), cli(dir, "init"), cli(dir, "sync")]);
    for (const r of [list, init, sync]) {
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^error \[E_GIT\]: .* is not inside a git repository\n {2}fix: /);
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe.concurrent("-C <dir>", () => {
  it("runs as if started in <dir>, from anywhere, before or after the verb, relative or absolute, from a subdirectory", async () => {
    const repo = makeRepo();
    mkdirSync(join(repo, "src", "deep"), { recursive: true });
    const elsewhere = tempDir();
    const init = await ok(elsewhere, "-C", repo, "init");
    expect(init.stdout).toContain(`created ${CONFIG}`);
    expect(existsSync(join(repo, CONFIG))).toBe(true);
    expect(readdirSync(elsewhere)).toEqual([]);

    const add = await ok(elsewhere, "--cwd", join(repo, "src", "deep"), "add", "from a subdirectory");
    expect(add.stdout).toBe("task 1 added: from a subdirectory\n");
    expect(existsSync(join(repo, "src", "deep", ".github"))).toBe(false);

    const [after, relative] = await Promise.all([
      json<Task[]>(elsewhere, "list", "--json", "-C", repo),
      json<Task>(dirname(repo), "-C", basename(repo), "show", "1", "--json"),
    ]);
    expect(after.map((t) => t.title)).toEqual(["from a subdirectory"]);
    expect(relative.title).toBe("from a subdirectory");
  });

  // Regression: a missing -C directory was once reported as git not being installed.
  it("a -C directory that does not exist is named in the error", async () => {
    const missing = join(tempDir(), "no-such-dir");
    const r = await cli(tempDir(), "-C", missing, "list");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(missing);
    expect(r.stderr).not.toContain("Install git");
  });
});

describe("add with overrides, and route", () => {
  it("routes by rule, by path, and by an add --agent/--profile override, and records each decision", async () => {
    const repo = makeRepo();
    await ok(repo, "add", "App crashes when saving settings");
    await ok(repo, "add", "Update docs/guide/intro.md for the new flag");
    await ok(repo, "add", "Something else entirely", "--agent", "codex", "--profile", "tests");
    const r1 = await ok(repo, "route", "1", "--explain");
    expect(r1.stdout).toMatch(/^task 1 → claude, profile bugfix, medium complexity; decided by rule: rule crash-title/);
    expect(r1.stdout).toContain("  - note: no classifier configured (router.classifier in .github/agent-router.yml): rules and the fallback decide\n");
    const r2 = await ok(repo, "route", "2");
    expect(r2.stdout).toMatch(/profile docs, low complexity; decided by rule: rule docs-paths: path docs\/guide\/intro\.md/);
    const r3 = JSON.parse((await ok(repo, "route", "3", "--json")).stdout) as { route: { agent: string; profile: string; decidedBy: string }; trail: string[] };
    expect(r3.route).toMatchObject({ agent: "codex", profile: "tests", decidedBy: "override" });
    expect(r3.trail).toContain("override from cli hint: agent codex, profile tests");
    const shown = JSON.parse((await ok(repo, "show", "3", "--json")).stdout) as { status: string; hint: object; history: { type: string }[] };
    expect(shown.status).toBe("routed");
    expect(shown.hint).toEqual({ agent: "codex", profile: "tests" });
    expect(shown.history.map((h) => h.type)).toEqual(["created", "route"]);
    expect((await cli(repo, "validate")).code).toBe(0);
  });

  it("refuses an override naming a disabled agent or an unknown profile (exit 2), adding nothing", async () => {
    const repo = makeRepo();
    const a = await cli(repo, "add", "x", "--agent", "aider");
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('agent "aider" is not enabled');
    const p = await cli(repo, "add", "x", "--profile", "wizard");
    expect(p.code).toBe(2);
    expect(p.stderr).toContain('profile "wizard" does not exist');
    expect((await ok(repo, "list", "--json")).stdout.trim()).toBe("[]");
  });

  it("route on a missing task exits 1 with E_TASK_NOT_FOUND", async () => {
    const repo = makeRepo();
    const r = await cli(repo, "route", "7");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("E_TASK_NOT_FOUND");
  });
});
