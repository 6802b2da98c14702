// agent-router loaded into Probot, tested the way Probot documents: nock with the network off, the
// events delivered with probot.receive, and every mocked request used. Each `issues` and
// `issue_comment` example payload from @octokit/webhooks-examples (with an installation added, as an
// app receives it): one that makes or steers a task starts that repository's reconcile with an
// installation token (here the repository has no agent-router config, so it stops after reading
// it); one agent-router does not act on sends nothing at all.
import { generateKeyPairSync } from "node:crypto";
import { createRequire } from "node:module";
import nock from "nock";
import { Probot, ProbotOctokit } from "probot";
import { describe, expect, it } from "vitest";
import { triggerFromEvent } from "../../../../src/adapters/github/event-trigger.ts";
import { routerProbotApp } from "../../../../src/entrypoints/probot/probot-app.ts";
import { createRouterApp } from "../../../../src/entrypoints/probot/router-app.ts";
import { memoryLog } from "../../../fakes/memory-log.ts";
import { guardNock } from "../../../support/nock-guard.ts";

const require = createRequire(import.meta.url);
type Payload = Record<string, unknown> & { action?: string; repository?: { name: string; owner: { login: string } } };
const defs = require("@octokit/webhooks-examples/api.github.com/index.json") as { name: string; examples: Payload[] }[];
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
const API = "https://api.github.com";

guardNock();

async function loaded() {
  const log = memoryLog();
  const router = createRouterApp({ credentials: { appId: 1, privateKey }, secrets: ["unused: Probot verifies"], apiUrl: API, serverUrl: "https://github.com", env: {}, logFor: (traceId) => log.child({ traceId }), tickSeconds: 0, configTtlMs: 0 });
  const probot = new Probot({ appId: 1, privateKey, logLevel: "warn", Octokit: ProbotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } }) });
  await probot.load(routerProbotApp(router));
  return { probot, router, log };
}

const cases = defs
  .filter((d) => d.name === "issues" || d.name === "issue_comment")
  .flatMap((d) => d.examples.map((payload, i) => ({ name: d.name, payload: { ...payload, installation: { id: 2, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMg==" } }, label: `${d.name}.${payload.action ?? "-"} #${i}` })));

describe("agent-router as a Probot app", () => {
  it("covers every issues and issue_comment example", () => {
    expect(cases.length).toBeGreaterThan(30);
  });

  it.each(cases)("$label: acted on through an installation token, or ignored without a request", async ({ name, payload }) => {
    const acts = "trigger" in triggerFromEvent({ name, payload });
    const { owner: { login: owner }, name: repo } = payload.repository!;
    const scope = nock(API);
    if (acts) {
      scope
        .post("/app/installations/2/access_tokens")
        .matchHeader("authorization", /^bearer [\w-]+\.[\w-]+\.[\w-]+$/i)
        .reply(201, { token: "ghs_installation000000000000000000000000", expires_at: "2099-01-01T00:00:00Z", permissions: { issues: "write" }, repository_selection: "all" })
        .post("/graphql", (body: { query: string; variables: { owner: string; repo: string } }) => body.query.includes("ReadRouterConfig") && body.variables.owner === owner && body.variables.repo === repo)
        .matchHeader("authorization", "token ghs_installation000000000000000000000000")
        .reply(200, { data: { repository: { defaultBranchRef: { name: "main", target: { oid: "a".repeat(40), main: null, dir: null } } } } });
    }
    const { probot, router, log } = await loaded();
    await probot.receive({ id: "delivery-1", name: name as "issues", payload: payload as never });
    await router.queue.idle();
    expect(router.queue.stats()).toMatchObject({ failed: 0 });
    expect(log.lines.filter((l) => l.level === "error")).toEqual([]);
    if (acts) expect(log.lines.some((l) => l.msg.includes("not set up") && l.deliveryId === "delivery-1")).toBe(true);
    expect(scope.isDone()).toBe(true);
  });
});
