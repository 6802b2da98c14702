import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const env = {
  ...process.env,
  GIT_AUTHOR_NAME: "Test User",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "Test User",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
};

export function sh(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trimEnd();
}

const made: string[] = [];

export function tempDir(prefix = "ar-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A repository on `main` with one commit and a README, like a user's project. */
export function makeRepo(): string {
  const dir = tempDir();
  sh(dir, "init", "-q", "-b", "main");
  sh(dir, "config", "user.name", "Test User");
  sh(dir, "config", "user.email", "test@example.invalid");
  writeFileSync(join(dir, "README.md"), "# project\n");
  sh(dir, "add", "README.md");
  sh(dir, "commit", "-q", "-m", "initial");
  return dir;
}

/** A bare repository to act as the remote, and `count` clones of it with origin set. */
export function makeRemoteWithClones(count: number): { bare: string; clones: string[] } {
  const seed = makeRepo();
  const bare = tempDir("ar-bare-");
  sh(bare, "init", "-q", "--bare", "-b", "main");
  sh(seed, "remote", "add", "origin", bare);
  sh(seed, "push", "-q", "origin", "main");
  const clones = Array.from({ length: count }, () => {
    const dir = tempDir("ar-clone-");
    sh(dir, "clone", "-q", bare, ".");
    sh(dir, "config", "user.name", "Test User");
    sh(dir, "config", "user.email", "test@example.invalid");
    return dir;
  });
  return { bare, clones };
}

/** A temp directory holding the given files (relative path → text). */
export function dirWith(files: Record<string, string>): string {
  const root = tempDir();
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/**
 * A repository whose only enabled agents are the given command agents (built-ins disabled), with
 * `fallback` as the fallback route's agent and `extra` config lines appended; committed.
 * `agents` maps a name to its YAML value, e.g. `{ type: command, command: [node, agent.mjs] }`.
 */
export function commandAgentRepo(agents: Record<string, string>, fallback: string, extra: string[] = []): string {
  const repo = makeRepo();
  mkdirSync(join(repo, ".github"), { recursive: true });
  const lines = ["agents:", "  claude: { enabled: false }", "  codex: { enabled: false }", "  opencode: { enabled: false }", ...Object.entries(agents).map(([name, value]) => `  ${name}: ${value}`), "router:", `  fallback: { agent: ${fallback}, profile: feature }`, ...extra, ""];
  writeFileSync(join(repo, ".github/agent-router.yml"), lines.join("\n"));
  sh(repo, "add", ".");
  sh(repo, "commit", "-qm", "config");
  return repo;
}
