// S2 through the whole plan: comments from people who may not steer (readers, non-collaborators,
// bots, anyone when the permission API failed) and commands that are hidden (quoted, fenced, inline
// code, lookalikes, invisible characters) change nothing in the ledger, whatever the task's state.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CommenterCheck } from "../../../src/core/commands/authorize.ts";
import { MainConfig } from "../../../src/core/config/main-config.ts";
import { Profile } from "../../../src/core/config/profile.ts";
import type { TaskEvent } from "../../../src/core/ledger/events.ts";
import type { Ledger } from "../../../src/core/ledger/ledger.ts";
import { emptyLedger, findTask, replaceTask } from "../../../src/core/ledger/ledger.ts";
import { transition } from "../../../src/core/ledger/transition.ts";
import type { ReconcileInput } from "../../../src/core/reconcile/plan-reconcile.ts";
import { planReconcile } from "../../../src/core/reconcile/plan-reconcile.ts";
import type { GitHubUser } from "../../../src/core/reconcile/trigger.ts";
import { ctxAt } from "../../support/ctx.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20261205);
const PROFILES: ReadonlyMap<string, Profile> = new Map([["feature", Profile.parse({ name: "feature", description: "d", role: "r", instructions: "i" })]]);
const CONFIG = MainConfig.parse({ github: { allowedBots: [4242] } });
const route = { agent: "claude", profile: "feature", complexity: "medium", reason: "r", decidedBy: "rule" } as const;

function input(ledger: Ledger, over: Partial<ReconcileInput>): ReconcileInput {
  return { ledger, trigger: { kind: "tick" }, ctx: ctxAt(1, "router"), config: CONFIG, profiles: PROFILES, jobs: [], routes: new Map(), results: [], orphans: [], claim: { limit: 0, busy: new Set() }, reviews: { limit: 0, busy: new Set() }, keyFor: (id, n) => `k${id}.${n}`, random: () => 0.5, ...over };
}

/** Issue #7's task after `events`: one ledger per interesting status. */
function ledgerAfter(events: TaskEvent[]): Ledger {
  const octocat = { login: "octocat", id: 1, type: "User" };
  const opened = planReconcile(input(emptyLedger(), { trigger: { kind: "issue", action: "opened", issue: { number: 7, title: "t", body: "b", labels: ["agent"], author: octocat }, sender: octocat }, commenter: { permission: "write" } })).ledger;
  let l = opened;
  for (const e of events) l = replaceTask(l, transition(findTask(l, 1)!, e, ctxAt(0)).task);
  return l;
}
const start: TaskEvent = { type: "start", key: "k1.1", agent: "claude", leaseUntil: ctxAt(30).now };
const LEDGERS = [
  ledgerAfter([{ type: "route", route }]),
  ledgerAfter([{ type: "route", route }, start]),
  ledgerAfter([{ type: "route", route }, start, { type: "finish", key: "k1.1", outcome: "needs_help", question: "which?" }]),
  ledgerAfter([{ type: "route", route }, start, { type: "fail", key: "k1.1", errorClass: "agent_error", error: "x", retryable: false }]),
  ledgerAfter([{ type: "route", route }, { type: "require_approval", reason: "gate" }]),
];

const COMMANDS = ["/agent retry", "/agent retry codex", "/agent approve", "/agent reject no", "/agent cancel", "/agent route codex feature", "/agent status", "/agent help", "please use CSV"];
const command = fc.constantFrom(...COMMANDS);
const prose = fc.string({ unit: fc.constantFrom("a", "b", " ", ".", "\n", "x"), maxLength: 40 });
const body = fc.tuple(prose, command, prose).map(([a, c, b]) => `${a}\n${c}\n${b}`);

/** Authors who may not steer: what they are, and what the permission API said. */
const outsider: fc.Arbitrary<{ author: GitHubUser; check: CommenterCheck | undefined }> = fc.oneof(
  fc.record({ author: fc.record({ login: fc.constantFrom("mallory", "eve"), id: fc.integer({ min: 2, max: 1e6 }), type: fc.constant("User") }), check: fc.constantFrom<CommenterCheck | undefined>({ permission: "read" }, { permission: "none" }, { error: "HTTP 502" }, { error: "no answer within 10000 ms" }, undefined) }),
  fc.record({ author: fc.record({ login: fc.constantFrom("helper[bot]", "admin"), id: fc.integer({ min: 5000, max: 1e6 }), type: fc.constantFrom("Bot", "Organization", "Mannequin") }), check: fc.constantFrom<CommenterCheck>({ permission: "admin" }, { permission: "write" }) }),
);

/** A command a person wrote that must not count: hidden in markdown or disguised. */
const hidden = fc.tuple(fc.constantFrom(...COMMANDS.slice(0, 6)), fc.integer({ min: 0, max: 6 }), fc.nat()).map(([c, how, at]) => {
  const i = 1 + (at % (c.length - 1));
  switch (how) {
    case 0:
      return `> ${c}`;
    case 1:
      return "```\n" + c + "\n```";
    case 2:
      return `    ${c}`;
    case 3:
      return `\`${c}\``;
    case 4:
      return `<!--\n${c}\n-->`;
    case 5:
      return c.replace("a", "\u0430"); // Cyrillic а
    default:
      return `${c.slice(0, i)}\u200B${c.slice(i)}`;
  }
});

describe("comments that must not steer (S2)", () => {
  it("10,000 comments from readers, non-collaborators, bots and anyone the permission API failed on change no task", () => {
    let n = 0;
    fc.assert(
      fc.property(fc.constantFrom(...LEDGERS), body, outsider, (ledger, text, who) => {
        const p = planReconcile(input(ledger, { trigger: { kind: "comment", deliveryId: `d${n++}`, issue: 7, comment: { id: 9, body: text, author: who.author } }, ...(who.check ? { commenter: who.check } : {}) }));
        expect(p.ledger).toBe(ledger);
        expect(p.lines).toEqual([]);
        expect(p.effects.filter((e) => e.kind !== "react")).toEqual([]);
      }),
      { numRuns: 10_000, seed: SEED },
    );
  });

  it("2,000 hidden or disguised commands from a writer change no task that is not asking for help", () => {
    const notAsking = LEDGERS.filter((l) => l.tasks[0]!.status !== "needs_help");
    fc.assert(
      fc.property(fc.constantFrom(...notAsking), hidden, (ledger, text) => {
        const p = planReconcile(input(ledger, { trigger: { kind: "comment", issue: 7, comment: { id: 9, body: text, author: { login: "maintainer", id: 77, type: "User" } } }, commenter: { permission: "admin" } }));
        expect(p.ledger).toBe(ledger);
        expect(p.effects).toEqual([]);
      }),
      { numRuns: 2_000, seed: SEED },
    );
  });

  it("the same comments from a writer do change tasks (the properties above can fail)", () => {
    const failed = LEDGERS[3]!;
    const p = planReconcile(input(failed, { trigger: { kind: "comment", issue: 7, comment: { id: 9, body: "x\n/agent retry\n", author: { login: "maintainer", id: 77, type: "User" } } }, commenter: { permission: "write" } }));
    expect(p.ledger).not.toBe(failed);
    const bot = planReconcile(input(failed, { trigger: { kind: "comment", issue: 7, comment: { id: 9, body: "/agent retry", author: { login: "ci[bot]", id: 4242, type: "Bot" } } }, commenter: { permission: "write" } }));
    expect(findTask(bot.ledger, 1)!.status).toBe("routed");
  });
});
