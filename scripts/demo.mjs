// npm run demo — builds the CLI and runs the whole pipeline in a throwaway repository with the
// embedded defaults: tasks added and routed by the built-in rules, a planner task that delegates
// three children, the children run in parallel in their own worktrees, the parent resumes with
// their results and finishes, and the ledger is shown. It uses a real agent CLI (claude, codex)
// when it is installed and its key is set; otherwise the EXAMPLE command agent in examples/.
// `npm run demo -- --github` runs the GitHub Action instead (scripts/demo-github.ts).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const cli = resolve("dist/cli.js");
const example = resolve("examples/example-agent.mjs");
execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
// --github: the same pipeline through the GitHub Action (dist/action.js) against the fake GitHub.
if (process.argv.includes("--github")) {
  const r = spawnSync(process.execPath, ["scripts/run-ts.mjs", "scripts/demo-github.ts"], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}
const root = mkdtempSync(join(tmpdir(), "agent-router-demo-"));
const env = { ...process.env, GIT_AUTHOR_NAME: "Demo", GIT_AUTHOR_EMAIL: "demo@example.invalid", GIT_COMMITTER_NAME: "Demo", GIT_COMMITTER_EMAIL: "demo@example.invalid" };
const git = (cwd, ...args) => execFileSync("git", args, { cwd, env, encoding: "utf8" }).trim();
const run = (cwd, ...args) => {
  console.log(`\n$ agent-router ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(" ")}`);
  process.stdout.write(execFileSync(process.execPath, [cli, ...args], { cwd, env, encoding: "utf8" }));
};
const has = (bin) => spawnSync(bin, ["--version"], { stdio: "ignore" }).status === 0;

// A real agent when one is installed with its key, else the example command agent.
const real = has("claude") && env.ANTHROPIC_API_KEY ? "claude" : has("codex") && (env.CODEX_API_KEY || env.OPENAI_API_KEY) ? "codex" : null;
const agentsYaml = real
  ? ["agents:", ...["claude", "codex", "opencode"].map((a) => `  ${a}: { enabled: ${a === real} }`), "router:", `  fallback: { agent: ${real}, profile: feature }`]
  : [
      "agents:",
      "  claude: { enabled: false }",
      "  codex: { enabled: false }",
      "  opencode: { enabled: false }",
      `  example: { type: command, command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(example)}] }`,
      "router:",
      "  fallback: { agent: example, profile: feature }",
    ];
console.log(
  real
    ? `\nUsing the real ${real} CLI: this spends tokens on your key.`
    : "\nNo agent CLI with a key was found (claude + ANTHROPIC_API_KEY, or codex + CODEX_API_KEY/OPENAI_API_KEY).\n" +
        "Using the EXAMPLE command agent (examples/example-agent.mjs): it follows the handoff contract and\n" +
        "writes small notes files instead of code, so the pipeline can be shown without keys.",
);

try {
  const repo = join(root, "project");
  git(root, "init", "-q", "-b", "main", repo);
  writeFileSync(join(repo, "README.md"), "# A small project\n");
  writeFileSync(join(repo, "AGENTS.md"), "Keep changes small. Explain them in the handoff summary.\n");
  mkdirSync(join(repo, ".github"));
  writeFileSync(join(repo, ".github/agent-router.yml"), `${agentsYaml.join("\n")}\nexecution: { parallelism: 4 }\n`);
  git(repo, "add", ".");
  git(repo, "commit", "-q", "-m", "initial");

  run(repo, "init");
  run(repo, "add", "Login test fails now and then", "--body", "It fails about one run in ten on CI.", "--label", "bug");
  run(repo, "add", "Explain the sync command", "--label", "documentation");
  run(repo, "add", "Ship dark mode", "--body", "Plan it, split it, get it done.", "--label", "epic");
  run(repo, "route", "1", "--explain");
  run(repo, "serve", "--until-idle");
  run(repo, "list");
  run(repo, "show", "3");
  console.log(`\n$ git branch --list 'agent-router/*'\n${git(repo, "branch", "--list", "agent-router/*")}`);
  console.log(`\n$ git log --oneline agent-router/ledger | head -5\n${git(repo, "log", "--oneline", "-5", "agent-router/ledger")}`);
  console.log(`\n$ git show --stat agent-router/task-4\n${git(repo, "show", "--stat", "--format=%an: %s", "agent-router/task-4")}`);
  run(repo, "validate");
} finally {
  rmSync(root, { recursive: true, force: true });
}
