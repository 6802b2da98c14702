// GitHub requests per task lifecycle and per idle tick, counted at the fake GitHub on 127.0.0.1
// through the real adapter and the GitHub ledger store. "counted" excludes 304 answers (conditional
// requests do not count against the rate limit).
import { createOctokit } from "../src/adapters/github/create-octokit.ts";
import { octokitGitHub } from "../src/adapters/github/octokit-github.ts";
import { githubLedgerStore } from "../src/adapters/ledger-github/github-ledger-store.ts";
import { silentLog } from "../src/app/app-deps.ts";
import type { ReconcileDeps } from "../src/app/app-deps.ts";
import { reconcile } from "../src/app/reconcile.ts";
import { applyEvent, steppingClock, testRouting, withRouting } from "../test/support/app.ts";
import { startFakeGitHub } from "../test/fakes/fake-github/index.ts";
import type { FakeGitHub } from "../test/fakes/fake-github/index.ts";

interface Count {
  requests: number;
  counted: number;
  mutating: number;
}

function since(fake: FakeGitHub, from: number): Count {
  const rs = fake.requests.slice(from);
  return { requests: rs.length, counted: rs.filter((r) => r.status !== 304).length, mutating: rs.filter((r) => r.mutating).length };
}

/** Rows: the lifecycle steps (label → routed → run → PR → done, one attempt) and an idle tick. */
export async function githubRequestRows(): Promise<string[]> {
  const fake = await startFakeGitHub();
  try {
    const octokit = createOctokit({ token: "ghs_bench", baseUrl: fake.url, log: silentLog, throttle: { writeMinTimeMs: 0, notificationMinTimeMs: 0 } });
    const api = octokitGitHub(octokit, { owner: "acme", repo: "widgets" });
    const routing = await testRouting();
    const store = githubLedgerStore(api, { branch: "agent-router/ledger", path: "ledger.yml" });
    const clock = steppingClock();
    const deps: ReconcileDeps = { ...withRouting({ store, clock, backoff: { sleep: async () => undefined, random: () => 0.5 }, config: routing.config, traceId: `00-${"a".repeat(32)}-${"b".repeat(16)}-01`, actor: "router" }, routing), github: { api, serverUrl: "https://github.com" } };
    const issue = fake.state.addIssue("acme/widgets", { title: "Importer drops rows", body: "Rows after 1000 vanish.", labels: ["agent"], user: "octocat" });
    const author = fake.state.user("octocat");
    const labeller = fake.state.user("maintainer");
    fake.state.mustRepo("acme/widgets").permissions.set("maintainer", "write");
    const maintainer = { login: labeller.login, id: labeller.id, type: labeller.type };
    const rows: string[] = [];
    const step = async (name: string, fn: () => Promise<unknown>): Promise<Count> => {
      const from = fake.requests.length;
      await fn();
      const c = since(fake, from);
      rows.push(`| ${name} | ${c.requests} | ${c.counted} | ${c.mutating} |`);
      return c;
    };
    const total = fake.requests.length;
    await step("issue labelled → task routed, tracking comment, label", () => reconcile({ kind: "issue", action: "labeled", deliveryId: "d1", label: "agent", issue: { number: issue.number, title: issue.title, body: issue.body ?? "", labels: ["agent"], author: { login: author.login, id: author.id, type: author.type } }, sender: maintainer }, deps));
    await step("attempt claimed and started (sync: running, 👀)", async () => {
      await applyEvent(deps, 1, { type: "start", key: "k1", agent: "claude", leaseUntil: new Date(clock.now().getTime() + 3_600_000).toISOString() });
      await reconcile({ kind: "tick" }, deps);
    });
    await step("attempt finished, branch pushed → PR opened, done", async () => {
      fake.state.commit(fake.state.mustRepo("acme/widgets"), "agent-router/task-1", { "src/importer.ts": "export {};\n" });
      await applyEvent(deps, 1, { type: "finish", key: "k1", outcome: "done", summary: "Fixed the importer", usage: { inputTokens: 1000, outputTokens: 200, costUsd: 0.01 } });
      await reconcile({ kind: "tick" }, deps);
    });
    const lifecycle = since(fake, total);
    rows.push(`| **whole lifecycle** | ${lifecycle.requests} | ${lifecycle.counted} | ${lifecycle.mutating} |`);
    const idle = await step("idle tick (nothing to do)", () => reconcile({ kind: "tick" }, deps));
    if (fake.state.schemaProblems.length > 0) throw new Error(`schema problems: ${JSON.stringify(fake.state.schemaProblems)}`);
    rows.push(`\nIdle tick: ${idle.counted} request(s) that count against the rate limit (goal ≤ 1). Pull requests opened: ${fake.state.mustRepo("acme/widgets").pulls.size}.`);
    return rows;
  } finally {
    await fake.close();
  }
}
