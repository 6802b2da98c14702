import { afterAll } from "vitest";
import { MemoryLedgerStore } from "../../src/adapters/ledger-memory/memory-ledger-store.ts";
import { GitLedgerStore } from "../../src/adapters/ledger-git/git-ledger-store.ts";
import { makeRepo, removeTempDirs, sh } from "../support/git-repo.ts";
import { describeLedgerStoreContract } from "./ledger-store.contract.ts";
import { execFileSync } from "node:child_process";

afterAll(removeTempDirs);

describeLedgerStoreContract("memory", async () => {
  const store = new MemoryLedgerStore();
  await Promise.resolve();
  return { store, plant: async (text) => store.replaceText(text), rawText: async () => store.currentText() };
});

describeLedgerStoreContract("git (local branch, plumbing)", async () => {
  const repo = makeRepo();
  const store = new GitLedgerStore({ cwd: repo, branch: "agent-router/ledger", path: "ledger.yml" });
  const ref = "refs/heads/agent-router/ledger";
  await Promise.resolve();
  return {
    store,
    async plant(text) {
      const blob = execFileSync("git", ["hash-object", "-w", "--stdin"], { cwd: repo, input: text, encoding: "utf8" }).trim();
      const tree = execFileSync("git", ["mktree"], { cwd: repo, input: `100644 blob ${blob}\tledger.yml\n`, encoding: "utf8" }).trim();
      const parent = (() => {
        try {
          return ["-p", sh(repo, "rev-parse", "--verify", "-q", ref)];
        } catch {
          return [];
        }
      })();
      const commit = sh(repo, "commit-tree", tree, ...parent, "-m", "hand edit");
      sh(repo, "update-ref", ref, commit);
    },
    async rawText() {
      try {
        return execFileSync("git", ["cat-file", "blob", `${ref}:ledger.yml`], { cwd: repo, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
      } catch {
        return null;
      }
    },
  };
});
