import { beforeAll, describe, expect, it } from "vitest";
import { loadRouting } from "../../../src/adapters/config-fs/load-routing.ts";
import { MainConfig } from "../../../src/core/config/main-config.ts";
import type { Profile } from "../../../src/core/config/profile.ts";
import { RouteRule } from "../../../src/core/config/route-rules.ts";
import type { ClassifierOutcome, RoutableTask, RouteHint, RoutingSetup } from "../../../src/core/routing/decide-route.ts";
import { decideRoute, globToRegExp, matchRule } from "../../../src/core/routing/decide-route.ts";
import { tempDir } from "../../support/git-repo.ts";

let profiles: Map<string, Profile>;
beforeAll(async () => {
  profiles = (await loadRouting(tempDir(), MainConfig.parse({}))).profiles;
});

const rule = (name: string, when: object, then: object): RouteRule => RouteRule.parse({ name, when, then });
const task = (t: Partial<RoutableTask>): RoutableTask => ({ title: "Something", body: "", labels: [], ...t });

function setup(rules: RouteRule[], config: object = {}): RoutingSetup {
  return { config: MainConfig.parse(config), profiles, rules };
}

describe("matchRule: each kind of condition", () => {
  const cases: [string, object, Partial<RoutableTask>, string | null][] = [
    ["label, any of", { labels: ["bug", "regression"] }, { labels: ["ui", "regression"] }, "label regression"],
    ["label missing", { labels: ["bug"] }, { labels: ["ui"] }, null],
    ["title regex, case-insensitive", { title: "\\bcrash" }, { title: "App CRASHES on start" }, "title ~ /\\bcrash/"],
    ["title no match", { title: "^docs" }, { title: "Fix docs" }, null],
    ["body regex", { body: "stack ?trace" }, { body: "here is the Stacktrace" }, "body ~ /stack ?trace/"],
    ["path glob **", { paths: ["docs/**"] }, { paths: ["src/a.ts", "docs/guide/intro.md"] }, "path docs/guide/intro.md"],
    ["path glob * stays in one segment", { paths: ["src/*.ts"] }, { paths: ["src/deep/a.ts"] }, null],
    ["path **/ matches the top level too", { paths: ["**/*.md"] }, { paths: ["README.md"] }, "path README.md"],
    ["all conditions must hold", { labels: ["bug"], title: "login" }, { labels: ["bug"], title: "Signup fails" }, null],
    ["all conditions hold", { labels: ["bug"], title: "login" }, { labels: ["bug"], title: "Login fails" }, "label bug, title ~ /login/"],
  ];
  for (const [name, when, t, expected] of cases) {
    it(name, () => expect(matchRule(rule("r", when, { profile: "bugfix" }), task(t))).toBe(expected));
  }

  it("globToRegExp escapes regex characters in literal parts", () => {
    expect(globToRegExp("a+b(c).md").test("a+b(c).md")).toBe(true);
    expect(globToRegExp("a+b(c).md").test("aab(c)xmd")).toBe(false);
  });
});

describe("decideRoute: the order override → rules → classifier → fallback", () => {
  const rules = [rule("bugs", { labels: ["bug"] }, { profile: "bugfix", complexity: "low" }), rule("docs", { labels: ["docs"] }, { agent: "opencode", profile: "docs" })];
  const verdict: ClassifierOutcome = { ok: true, agent: "codex", profile: "feature", complexity: "high", reason: "new API" };
  const cases: { name: string; t: Partial<RoutableTask>; hint?: RouteHint; verdict?: ClassifierOutcome; config?: object; want: object }[] = [
    { name: "a rule decides; agent from the profile's preferences", t: { labels: ["bug"] }, verdict, want: { agent: "claude", profile: "bugfix", complexity: "low", decidedBy: "rule" } },
    { name: "a rule's own agent", t: { labels: ["docs"] }, want: { agent: "opencode", profile: "docs", decidedBy: "rule" } },
    { name: "first matching rule wins", t: { labels: ["docs", "bug"] }, want: { profile: "bugfix", decidedBy: "rule" } },
    { name: "no rule: the classifier's verdict", t: {}, verdict, want: { agent: "codex", profile: "feature", complexity: "high", decidedBy: "llm" } },
    { name: "no rule, no verdict: the fallback", t: {}, want: { agent: "claude", profile: "feature", complexity: "medium", decidedBy: "fallback" } },
    { name: "a failed classifier: the fallback, with the reason kept", t: {}, verdict: { ok: false, reason: "timeout" }, want: { decidedBy: "fallback", reason: "fallback (timeout)" } },
    { name: "label agent:codex overrides the rule's agent, keeps its profile", t: { labels: ["bug", "agent:codex"] }, want: { agent: "codex", profile: "bugfix", decidedBy: "override" } },
    { name: "a hint's profile picks that profile's preferred agent", t: { labels: ["bug"] }, hint: { profile: "tests", from: "command" }, want: { agent: "codex", profile: "tests", decidedBy: "override" } },
    { name: "a hint beats the label", t: { labels: ["agent:codex"] }, hint: { agent: "opencode", from: "cli" }, want: { agent: "opencode", decidedBy: "override" } },
    { name: "a disabled override agent is ignored", t: { labels: ["bug", "agent:codex"] }, config: { agents: { codex: { enabled: false } } }, want: { agent: "claude", decidedBy: "rule" } },
    { name: "an unknown override profile is ignored", t: {}, hint: { profile: "nope", from: "command" }, want: { profile: "feature", decidedBy: "fallback" } },
    { name: "a verdict naming a disabled agent falls through to the fallback", t: {}, verdict, config: { agents: { codex: { enabled: false } } }, want: { decidedBy: "fallback" } },
    { name: "a rule whose agent is disabled is skipped", t: { labels: ["docs"] }, config: { agents: { opencode: { enabled: false } } }, want: { decidedBy: "fallback" } },
    { name: "the model comes from the agent's models per complexity", t: { labels: ["bug"] }, config: { agents: { claude: { models: { low: "haiku" } } } }, want: { agent: "claude", model: "haiku" } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { route, trail } = decideRoute(task(c.t), setup(rules, c.config), c.hint, c.verdict);
      expect(route).toMatchObject(c.want);
      expect(route.reason.length).toBeGreaterThan(0);
      expect(trail.length).toBeGreaterThan(0);
    });
  }

  it("explains every step it tried", () => {
    const { trail } = decideRoute(task({ labels: ["agent:aider"] }), setup(rules), undefined, { ok: false, reason: "no key configured" });
    expect(trail).toEqual(["no rule matched", "classifier gave no verdict: no key configured", "fallback claude/feature", 'label: agent "aider" is not enabled; ignored']);
  });

  it("the built-in rules route a crash report to bugfix and a typo to docs", async () => {
    const real = await loadRouting(tempDir(), MainConfig.parse({}));
    const s = { config: MainConfig.parse({}), profiles: real.profiles, rules: real.rules };
    expect(decideRoute(task({ title: "App crashes when saving" }), s).route).toMatchObject({ profile: "bugfix", decidedBy: "rule" });
    expect(decideRoute(task({ title: "Typo in the README" }), s).route).toMatchObject({ profile: "docs", decidedBy: "rule" });
    expect(decideRoute(task({ title: "Add dark mode" }), s).route).toMatchObject({ decidedBy: "fallback" });
  });
});

describe("mentionedPaths", () => {
  it("finds file and directory paths, not versions or URLs", async () => {
    const { mentionedPaths } = await import("../../../src/core/routing/decide-route.ts");
    expect(mentionedPaths("See src/app.ts and docs/guide/, also README.md; version 1.2.3 at https://x.io/a")).toEqual(["src/app.ts", "docs/guide", "README.md"]);
  });
});
