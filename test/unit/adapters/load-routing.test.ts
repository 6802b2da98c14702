import { afterAll, describe, expect, it } from "vitest";
import { BUILTIN_PROFILES } from "../../../src/adapters/config-fs/builtin-data.generated.ts";
import { loadRouting } from "../../../src/adapters/config-fs/load-routing.ts";
import { MainConfig } from "../../../src/core/config/main-config.ts";
import { dirWith, removeTempDirs, tempDir } from "../../support/git-repo.ts";

afterAll(removeTempDirs);

const defaults = MainConfig.parse({});
const BUILTINS = ["bugfix", "feature", "docs", "tests", "refactor", "review", "planner", "maintenance"];

const repoWith = dirWith;

describe("built-in profiles and rules", () => {
  it("ships exactly the eight built-in profiles", () => {
    expect(Object.keys(BUILTIN_PROFILES).sort()).toEqual([...BUILTINS].sort());
  });

  for (const name of BUILTINS) {
    it(`profile ${name} loads with a role, instructions and a preferred agent`, async () => {
      const { profiles, problems } = await loadRouting(tempDir(), defaults);
      expect(problems).toEqual([]);
      const p = profiles.get(name);
      expect(p?.name).toBe(name);
      expect(p?.role.length).toBeGreaterThan(10);
      expect(p?.instructions.length).toBeGreaterThan(20);
      expect(p?.preferredAgents.length).toBeGreaterThan(0);
    });
  }

  it("only the planner may delegate, and only to known profiles", async () => {
    const { profiles } = await loadRouting(tempDir(), defaults);
    const delegating = [...profiles.values()].filter((p) => p.delegation.allowed).map((p) => p.name);
    expect(delegating).toEqual(["planner"]);
    for (const target of profiles.get("planner")?.delegation.to ?? []) expect(profiles.has(target)).toBe(true);
  });

  it("the built-in rules load and name only known profiles", async () => {
    const { rules, problems } = await loadRouting(tempDir(), defaults);
    expect(problems).toEqual([]);
    expect(rules.length).toBeGreaterThan(5);
  });
});

describe("a repository's own files", () => {
  it("a user profile replaces the built-in of the same name and can add a new one", async () => {
    const root = repoWith({
      ".github/agent-router/profiles/bugfix.yml": "name: bugfix\ndescription: ours\nrole: Our bug fixer role\ninstructions: Do it our way, with care.\npreferredAgents: [codex]\n",
      ".github/agent-router/profiles/security.yml": "name: security\ndescription: audits\nrole: A security reviewer\ninstructions: Look for injection and secrets.\n",
    });
    const { profiles, sources, problems } = await loadRouting(root, defaults);
    expect(problems).toEqual([]);
    expect(profiles.get("bugfix")?.description).toBe("ours");
    expect(profiles.get("security")?.timeoutMinutes).toBe(30);
    expect(sources.get("bugfix")).toBe(".github/agent-router/profiles/bugfix.yml");
    expect(profiles.size).toBe(BUILTINS.length + 1);
  });

  it("reports bad profiles and rules with file, line and path", async () => {
    const root = repoWith({
      ".github/agent-router/profiles/docs.yml": "name: docs\ndescription: d\nrole: r\ninstructions: i\napproval: sometimes\ntimeoutMinute: 5\n",
      ".github/agent-router/router/routes.yml": "rules:\n  - name: a\n    when: { labels: [x] }\n    then: { profile: nope }\n  - name: b\n    when: {}\n    then: { profile: docs }\n  - name: c\n    when: { title: \"(\" }\n    then: { profile: docs, agent: aider }\n",
    });
    const { problems } = await loadRouting(root, defaults);
    const lines = problems.map((p) => `${p.file}:${p.line ?? "?"} ${p.path.join(".")}: ${p.message}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\.github\/agent-router\/profiles\/docs\.yml:5 approval: Invalid option/),
        expect.stringMatching(/^\.github\/agent-router\/profiles\/docs\.yml:6 timeoutMinute: unknown key "timeoutMinute" \(did you mean "timeoutMinutes"\?\)/),
        expect.stringMatching(/^\.github\/agent-router\/router\/routes\.yml:6 rules\.1\.when: a rule needs at least one condition/),
        expect.stringMatching(/^\.github\/agent-router\/router\/routes\.yml:9 rules\.2\.when\.title: not a valid regular expression/),
      ]),
    );
  });

  it("checks rule targets against the profiles and the agents in force", async () => {
    const root = repoWith({
      ".github/agent-router/router/routes.yml": "rules:\n  - name: a\n    when: { labels: [x] }\n    then: { profile: nope }\n  - name: b\n    when: { labels: [y] }\n    then: { profile: docs, agent: aider }\n  - name: c\n    when: { labels: [z] }\n    then: { profile: docs, agent: opencode }\n",
    });
    const config = MainConfig.parse({ agents: { opencode: { enabled: false } } });
    const { problems } = await loadRouting(root, config);
    expect(problems.map((p) => [p.line, p.severity, p.message])).toEqual([
      [4, "error", 'rule a: unknown profile "nope"'],
      [7, "error", 'rule b: unknown agent "aider"'],
      [10, "warning", 'rule c: agent "opencode" is disabled, so this rule never decides'],
    ]);
  });
});

describe("the classifier template", () => {
  it("the built-in router/classifier.md loads and has every placeholder it needs", async () => {
    const { classifierTemplate, sources, problems } = await loadRouting(tempDir(), defaults);
    expect(problems).toEqual([]);
    expect(sources.get("classifier")).toBe("router/classifier.md (built-in)");
    for (const p of ["{{agents}}", "{{profiles}}", "{{task}}", "{{boundary}}"]) expect(classifierTemplate).toContain(p);
  });

  it("a repository's own template replaces it, and a template without {{task}} or with unknown placeholders is reported", async () => {
    const good = await loadRouting(repoWith({ ".github/agent-router/router/classifier.md": "Pick one of {{agents}}.\n{{task}}\n" }), defaults);
    expect(good.problems).toEqual([]);
    expect(good.classifierTemplate).toBe("Pick one of {{agents}}.\n{{task}}\n");
    const bad = await loadRouting(repoWith({ ".github/agent-router/router/classifier.md": "Pick one of {{agents}} for {{title}}.\n" }), defaults);
    expect(bad.problems.map((p) => `${p.file}: ${p.message}`)).toEqual([
      ".github/agent-router/router/classifier.md: unknown placeholder {{title}}; use {{agents}}, {{profiles}}, {{task}}, {{boundary}}",
      ".github/agent-router/router/classifier.md: {{task}} must appear exactly once (found 0)",
    ]);
  });
});
