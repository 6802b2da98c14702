// Reconcile deps against the fake GitHub: the real Octokit adapter (no write spacing, fast retries)
// and the GitHub ledger store on `agent-router/ledger`.
import { createOctokit } from "../../src/adapters/github/create-octokit.ts";
import { octokitGitHub } from "../../src/adapters/github/octokit-github.ts";
import { githubLedgerStore } from "../../src/adapters/ledger-github/github-ledger-store.ts";
import type { ReconcileDeps } from "../../src/app/app-deps.ts";
import { silentLog } from "../../src/app/app-deps.ts";
import type { FakeGitHub } from "../fakes/fake-github/index.ts";
import { steppingClock, testRouting, withRouting } from "./app.ts";

export async function githubDeps(fake: FakeGitHub, config: Record<string, unknown> = {}): Promise<ReconcileDeps> {
  const octokit = createOctokit({ token: "ghs_test", baseUrl: fake.url, log: silentLog, throttle: { writeMinTimeMs: 0, notificationMinTimeMs: 0 }, retry: { baseDelayMs: 5 } });
  const api = octokitGitHub(octokit, { owner: "acme", repo: "widgets" });
  const routing = await testRouting(config);
  const store = githubLedgerStore(api, { branch: "agent-router/ledger", path: "ledger.yml" });
  const base = { store, clock: steppingClock(), backoff: { sleep: async () => undefined, random: () => 0.5 }, config: routing.config, traceId: `00-${"a".repeat(32)}-${"b".repeat(16)}-01`, actor: "router" };
  return { ...withRouting(base, routing), github: { api, serverUrl: "https://github.com" } };
}
