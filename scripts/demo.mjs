// npm run demo — builds the CLI and runs it in a throwaway repository with the embedded defaults:
// init, add tasks, list, show, validate, then a second clone syncing through a bare remote.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const cli = resolve("dist/cli.js");
execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
const root = mkdtempSync(join(tmpdir(), "agent-router-demo-"));
const env = { ...process.env, GIT_AUTHOR_NAME: "Demo", GIT_AUTHOR_EMAIL: "demo@example.invalid", GIT_COMMITTER_NAME: "Demo", GIT_COMMITTER_EMAIL: "demo@example.invalid" };
const git = (cwd, ...args) => execFileSync("git", args, { cwd, env, encoding: "utf8" }).trim();
const run = (cwd, ...args) => {
  console.log(`\n$ agent-router ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(" ")}`);
  process.stdout.write(execFileSync(process.execPath, [cli, ...args], { cwd, env, encoding: "utf8" }));
};

try {
  const bare = join(root, "remote.git");
  const repo = join(root, "project");
  git(root, "init", "-q", "--bare", "-b", "main", bare);
  git(root, "init", "-q", "-b", "main", repo);
  git(repo, "commit", "-q", "--allow-empty", "-m", "initial");
  git(repo, "remote", "add", "origin", bare);
  git(repo, "push", "-q", "origin", "main");

  run(repo, "init");
  run(repo, "add", "Fix the flaky login test", "--body", "It fails about one run in ten on CI.", "--label", "bug");
  run(repo, "add", "Document the sync command", "--label", "docs");
  run(repo, "list");
  run(repo, "show", "1");
  run(repo, "validate");
  run(repo, "sync");

  const other = join(root, "other-clone");
  git(root, "clone", "-q", bare, other);
  run(other, "sync");
  run(other, "add", "Task added on another machine");
  run(repo, "add", "Task added here meanwhile");
  run(other, "sync");
  run(repo, "sync");
  run(repo, "list");
  console.log(`\n$ git log --oneline agent-router/ledger\n${git(repo, "log", "--oneline", "agent-router/ledger")}`);
  console.log(`\n$ git status --short   # the working tree holds only the new config file\n${git(repo, "status", "--short")}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
