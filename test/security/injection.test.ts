/**
 * Prompt injection through issue text (title, body, labels, comments). Every corpus string, in every
 * place it can be written, must stay inside the untrusted blocks of the classifier prompt and the
 * context bundle, must lose what a reader cannot see, and must not change a rules decision. The
 * negative controls at the end show that the checker catches a renderer that gets this wrong.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILTIN_CLASSIFIER_TEMPLATE } from "../../src/adapters/config-fs/builtin-data.generated.ts";
import { loadRouting } from "../../src/adapters/config-fs/load-routing.ts";
import { MainConfig } from "../../src/core/config/main-config.ts";
import type { Profile } from "../../src/core/config/profile.ts";
import type { RouteRule } from "../../src/core/config/route-rules.ts";
import { HANDOFF_INSTRUCTIONS } from "../../src/core/context/handoff-text.ts";
import { planBundle } from "../../src/core/context/plan-bundle.ts";
import { sanitizeUntrusted } from "../../src/core/context/sanitize.ts";
import { truncateToTokens } from "../../src/core/context/tokens.ts";
import { closeTag, openTag, trustedPart, wrapUntrusted } from "../../src/core/context/untrusted-block.ts";
import { renderClassifierPrompt } from "../../src/core/routing/classifier-prompt.ts";
import type { RoutingSetup } from "../../src/core/routing/decide-route.ts";
import { decideRoute, mentionedPaths } from "../../src/core/routing/decide-route.ts";
import { verdictChoices } from "../../src/core/routing/verdict.ts";
import { CANARY, INJECTION_CORPUS, withBoundary } from "../fixtures/injection-corpus.ts";
import { removeTempDirs, tempDir } from "../support/git-repo.ts";

/** The run's boundary, random like a real run's; failures print it. */
const BOUNDARY = randomBytes(16).toString("hex");
const CORPUS = INJECTION_CORPUS.map((e) => ({ ...e, text: withBoundary(e.text, BOUNDARY) }));

interface Shape {
  title: string;
  body: string;
  labels: string[];
  comments: string[];
}
const BENIGN: Shape = { title: "Add a dark mode toggle", body: "The settings page needs a dark mode toggle.", labels: ["enhancement", "ui"], comments: ["Sounds good, go ahead."] };
/** Where a corpus string goes; every placement keeps the benign task's shape (same number of labels and comments). */
const PLACEMENTS: Record<string, (s: string) => Shape> = {
  title: (s) => ({ ...BENIGN, title: s }),
  body: (s) => ({ ...BENIGN, body: s }),
  label: (s) => ({ ...BENIGN, labels: ["enhancement", s] }),
  comment: (s) => ({ ...BENIGN, comments: [s] }),
  everywhere: (s) => ({ title: s, body: s, labels: [s, s], comments: [s] }),
};

/** Zero-width, bidi, soft hyphen, Arabic letter mark, word joiners and tag characters. */
const HIDDEN = /[\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]|[\u{E0000}-\u{E007F}]/u;
const count = (text: string, needle: string): number => text.split(needle).length - 1;

/**
 * What is wrong with `prompt`, judged against `baseline`, the same renderer's output for the benign
 * task of the same shape: the text outside the untrusted blocks must be byte-identical, the blocks
 * as many as the baseline's, the boundary nowhere else, no tag look-alike inside a block, and no
 * hidden text, control character or canary anywhere.
 */
function problemsOf(prompt: string, baseline: string, boundary = BOUNDARY): string[] {
  const problems: string[] = [];
  const blocks = count(baseline, `<untrusted-${boundary} `);
  let trusted: string | undefined;
  try {
    trusted = trustedPart(prompt, boundary);
  } catch (err) {
    problems.push(`trustedPart failed: ${(err as Error).message}`);
  }
  const expected = trustedPart(baseline, boundary);
  if (trusted !== undefined && trusted !== expected) {
    let i = 0;
    while (trusted[i] === expected[i]) i++;
    problems.push(`text outside the blocks differs at ${i}: ${JSON.stringify(trusted.slice(Math.max(0, i - 20), i + 40))}`);
  }
  const opens = count(prompt, `<untrusted-${boundary} `);
  const closes = count(prompt, closeTag(boundary));
  if (opens !== blocks || closes !== blocks) problems.push(`${opens} open and ${closes} close tags, expected ${blocks} blocks`);
  if (count(prompt, boundary) !== count(baseline, boundary)) problems.push(`the boundary appears ${count(prompt, boundary)} times, expected ${count(baseline, boundary)}`);
  // neutralizeDelimiters promises that nothing shaped like our tags survives inside a block.
  const lookAlikes = [...prompt.matchAll(/<\/?\s*untrusted[^<>]*>/gi)].filter((m) => !m[0].startsWith(`<untrusted-${boundary} source="`) && m[0] !== closeTag(boundary));
  if (lookAlikes.length > 0) problems.push(`a delimiter look-alike survives: ${JSON.stringify(lookAlikes[0]![0].slice(0, 80))}`);
  if (prompt.includes("<!--")) problems.push("contains an HTML comment opener");
  const hidden = HIDDEN.exec(prompt);
  if (hidden) problems.push(`contains hidden character U+${hidden[0].codePointAt(0)!.toString(16).toUpperCase()}`);
  if (/[\u001B\u009B]/.test(prompt)) problems.push("contains an ANSI escape");
  const control = /[\u0000-\u0008\u000B-\u001A\u001C-\u001F\u007F-\u009A\u009C-\u009F]/.exec(prompt);
  if (control) problems.push(`contains control character U+${control[0].charCodeAt(0).toString(16).padStart(4, "0")}`);
  if (prompt.includes(CANARY)) problems.push("contains the canary secret");
  return problems;
}

let setup: RoutingSetup;
let profiles: Map<string, Profile>;
let builtinRules: RouteRule[];
beforeAll(async () => {
  const loaded = await loadRouting(tempDir(), MainConfig.parse({}));
  expect(loaded.problems).toEqual([]);
  profiles = loaded.profiles;
  builtinRules = loaded.rules;
  setup = { config: MainConfig.parse({}), profiles, rules: builtinRules };
});
afterAll(removeTempDirs);

const classifierPrompt = (s: Shape, boundary = BOUNDARY): string =>
  renderClassifierPrompt({ template: BUILTIN_CLASSIFIER_TEMPLATE, choices: verdictChoices(setup), profiles, task: { title: s.title, body: s.body, labels: s.labels }, boundary });

const bundle = (s: Shape, boundary = BOUNDARY): string =>
  planBundle({
    task: { id: 42, title: s.title, body: s.body, labels: s.labels, attempts: [] },
    profile: profiles.get("feature")!,
    handoff: HANDOFF_INSTRUCTIONS,
    comments: s.comments.map((body, i) => ({ author: `maintainer${i}`, at: "2025-01-02T03:04:05Z", body })),
    lineage: { siblings: [], children: [] },
    repo: { instructions: [{ path: "AGENTS.md", text: "# Agents\nRun npm test before you finish." }], paths: ["README.md", "src/app.ts", "src/settings.ts"], files: [] },
    boundary,
    budget: { maxTokens: 1_000_000, attempts: 3 },
  }).text;

const RENDERERS = [
  // The classifier never sees comments, so a corpus string "in a comment" is not a case for it.
  { name: "classifier prompt", render: classifierPrompt, blocks: (): number => 3, placements: ["title", "body", "label", "everywhere"] },
  { name: "context bundle", render: bundle, blocks: (s: Shape): number => 3 + s.comments.length, placements: Object.keys(PLACEMENTS) },
];

describe("the injection corpus", () => {
  it("has at least 200 distinct strings with unique ids", () => {
    expect(INJECTION_CORPUS.length).toBeGreaterThanOrEqual(200);
    expect(new Set(INJECTION_CORPUS.map((e) => e.text)).size).toBe(INJECTION_CORPUS.length);
    expect(new Set(INJECTION_CORPUS.map((e) => e.id)).size).toBe(INJECTION_CORPUS.length);
  });
  it("puts the real boundary into the forgeries", () => {
    expect(CORPUS.filter((e) => e.text.includes(closeTag(BOUNDARY))).length).toBeGreaterThanOrEqual(15);
    expect(CORPUS.some((e) => e.text.includes("{{BOUNDARY"))).toBe(false);
  });
});

describe.each(RENDERERS)("$name: untrusted text stays inside its blocks", ({ render, blocks, placements }) => {
  it("the benign task renders the expected blocks and passes the checks", () => {
    const baseline = render(BENIGN);
    expect(count(baseline, `<untrusted-${BOUNDARY} `)).toBe(blocks(BENIGN));
    expect(count(baseline, closeTag(BOUNDARY))).toBe(blocks(BENIGN));
    expect(problemsOf(baseline, baseline)).toEqual([]);
  });

  it.each(placements)("every corpus string (placed: %s)", (placement) => {
    const shape = PLACEMENTS[placement]!;
    const baseline = render(shape(BENIGN.title));
    const failures = CORPUS.flatMap((e) => problemsOf(render(shape(e.text)), baseline).map((p) => `${e.id}: ${p}`));
    expect(failures, `boundary ${BOUNDARY}`).toEqual([]);
  });
});

describe("no corpus string changes a rules decision", () => {
  // Built-in routes.yml lists its label rules before its path, title and body rules, and the first
  // match wins, so a task carrying one of those labels is decided by the label whatever its text
  // says (the paths the app derives from the text only feed the later docs-paths rule). In the
  // label-only set no rule reads text at all, so an `agent:<name>` label plus the fallback decide.
  // Comments never reach decideRoute: RoutableTask has no field for them.
  const labelOnly = (): RouteRule[] => builtinRules.filter((r) => Object.keys(r.when).every((k) => k === "labels"));
  const cases = [
    { name: "built-in rules, label bug", rules: () => builtinRules, labels: ["bug"], want: { profile: "bugfix", decidedBy: "rule" } },
    { name: "built-in rules, label docs and agent:codex", rules: () => builtinRules, labels: ["docs", "agent:codex"], want: { agent: "codex", profile: "docs", decidedBy: "override" } },
    { name: "label-only rules, label refactor", rules: labelOnly, labels: ["refactor"], want: { profile: "refactor", decidedBy: "rule" } },
    { name: "label-only rules, agent:opencode and no rule", rules: labelOnly, labels: ["agent:opencode"], want: { agent: "opencode", profile: "feature", decidedBy: "override" } },
  ];
  const routable = (title: string, body: string, labels: string[]) => ({ title, body, labels, paths: mentionedPaths(`${title}\n${body}`) });

  it("the label-only set keeps only rules that read labels", () => {
    expect(labelOnly().length).toBeGreaterThan(3);
    expect(labelOnly().length).toBeLessThan(builtinRules.length);
  });

  it.each(cases)("$name", ({ rules, labels, want }) => {
    const s = { ...setup, rules: rules() };
    const base = decideRoute(routable(BENIGN.title, BENIGN.body, labels), s);
    expect(base.route).toMatchObject(want);
    const changed = CORPUS.filter((e) => {
      const d = decideRoute(routable(`${BENIGN.title} ${e.text}`, `${BENIGN.body}\n\n${e.text}`, labels), s);
      return JSON.stringify(d) !== JSON.stringify(base);
    });
    expect(changed.map((e) => e.id)).toEqual([]);
  });

  it("an agent:<name> label keeps its agent even against a verdict naming another", () => {
    const s = { ...setup, rules: labelOnly() };
    for (const e of CORPUS) {
      const t = routable(e.text, e.text, ["agent:opencode"]);
      const d = decideRoute(t, s, undefined, { ok: true, agent: "codex", profile: "planner", complexity: "high", reason: e.text });
      expect(d.route.agent, e.id).toBe("opencode");
    }
  });

  it("control: without a deciding label the built-in title rules do react to the text", () => {
    const base = decideRoute(routable(BENIGN.title, BENIGN.body, []), setup);
    const changed = CORPUS.filter((e) => JSON.stringify(decideRoute(routable(`${BENIGN.title} ${e.text}`, BENIGN.body, []), setup)) !== JSON.stringify(base));
    expect(changed.length).toBeGreaterThan(0);
  });
});

describe("negative controls: the checker catches broken renderers", () => {
  type Mutation = "none" | "raw-title" | "no-neutralise" | "no-sanitise";
  /** The classifier prompt rebuilt by hand, with one safeguard removed. */
  function mutantPrompt(s: Shape, mutation: Mutation): string {
    const wrap = (text: string, source: string): string =>
      mutation === "no-neutralise" ? `${openTag(BOUNDARY, source)}\n${text}\n${closeTag(BOUNDARY)}` : wrapUntrusted(text, BOUNDARY, source);
    const clean = mutation === "no-sanitise" ? (text: string): string => text : sanitizeUntrusted;
    const body = truncateToTokens(clean(s.body), 2000);
    const choices = verdictChoices(setup);
    const values: Record<string, string> = {
      agents: choices.agents.map((a) => `- ${a}`).join("\n"),
      profiles: choices.profiles.map((p) => `- ${p}: ${profiles.get(p)?.description ?? ""}`).join("\n"),
      task: [
        mutation === "raw-title" ? `Title: ${s.title}` : wrap(clean(s.title), "issue title"),
        wrap(s.labels.map(clean).join(", "), "labels"),
        wrap(body.text + (body.cut ? "\n[… body cut]" : ""), "issue body"),
      ].join("\n"),
      boundary: BOUNDARY,
    };
    return BUILTIN_CLASSIFIER_TEMPLATE.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (whole, name: string) => values[name] ?? whole);
  }
  const missedBy = (mutation: Mutation, entries: typeof CORPUS, placement: "title" | "body" | "label"): string[] => {
    const baseline = mutantPrompt(BENIGN, mutation);
    return entries.filter((e) => problemsOf(mutantPrompt(PLACEMENTS[placement]!(e.text), mutation), baseline).length === 0).map((e) => e.id);
  };

  it("the hand-built prompt equals the real one when nothing is removed", () => {
    for (const e of CORPUS) expect(mutantPrompt(PLACEMENTS["everywhere"]!(e.text), "none"), e.id).toBe(classifierPrompt(PLACEMENTS["everywhere"]!(e.text)));
  });

  it("a renderer that puts the raw title in the template is caught for every forgery and plain-text string", () => {
    const chosen = CORPUS.filter((e) => ["delimiter-forgery", "ignore-previous", "role-play", "fake-command"].includes(e.category));
    expect(chosen.length).toBeGreaterThan(80);
    expect(missedBy("raw-title", chosen, "title")).toEqual([]);
    expect(missedBy("raw-title", CORPUS, "title")).toEqual([]);
  });

  it("a wrapper that does not neutralise the boundary is caught by every forged delimiter with the real boundary", () => {
    // After sanitising (which can reassemble a split boundary), these hold a well-formed open or close tag.
    const forged = CORPUS.filter((e) => {
      const clean = sanitizeUntrusted(e.text);
      return clean.includes(closeTag(BOUNDARY)) || clean.includes(`<untrusted-${BOUNDARY} `);
    });
    expect(forged.length).toBeGreaterThanOrEqual(20);
    expect(missedBy("no-neutralise", forged, "title")).toEqual([]);
    expect(missedBy("no-neutralise", forged, "body")).toEqual([]);
    // The real renderer, with the same strings, passes (checked above for all placements).
    expect(forged.filter((e) => problemsOf(classifierPrompt(PLACEMENTS["title"]!(e.text)), classifierPrompt(BENIGN)).length > 0)).toEqual([]);
  });

  it("a renderer that does not sanitise is caught by every string carrying hidden characters, escapes, comments or the canary", () => {
    const hidden = CORPUS.filter((e) => ["zero-width-bidi", "tag-characters", "ansi", "secret"].includes(e.category) || (e.category === "html-comment" && e.text.includes("<!--")));
    expect(hidden.length).toBeGreaterThan(60);
    for (const placement of ["title", "body", "label"] as const) expect(missedBy("no-sanitise", hidden, placement)).toEqual([]);
  });
});

describe("hidden text and secrets: what the sanitiser removes", () => {
  // A marker in each place GitHub does not render; the sanitised text must not contain it.
  const M = "HIDDENMARK";
  const removed = [`<img alt="${M}" src=x>`, `<img src=x\nalt='${M}'>`, `<img alt=${M} src=x>`, `<IMG ALT="${M}">`, `<span data-x="${M}" aria-label="${M}">v</span>`, `<input placeholder="${M}">`, `![${M}](https://e.example/a.png)`, `[x](https://e.example "${M}")`, `[x](https://e.example '${M}')`, `[x](https://e.example (${M}))`, `<!-- ${M} -->`, `<!-- ${M}`];
  it.each(removed)("removes the hidden text of %j", (text) => expect(sanitizeUntrusted(text)).not.toContain(M));

  // Harder cases, each once a gap in sanitize.ts (fixed): quoted values with ">" or tags, attributes
  // after "/", open tags, nested brackets, reference-style images and titles, escaped quotes.
  const leaks: [string, string][] = [
    ["an alt value containing >", `<img alt="a > ${M}" src=x>`],
    ["an alt value containing a tag", `<img alt="<b>${M}</b>" src=x>`],
    ["an attribute after / instead of a space", `<img/alt="${M}" src=x>`],
    ["a tag left open at the end of the text", `text <img alt="${M}"`],
    ["image alt text with nested brackets", `![a [b] ${M}](https://e.example/a.png)`],
    ["a reference-style image's alt text", `![${M}][r]\n\n[r]: https://e.example/a.png`],
    ["a link title with an escaped quote", `[x](https://e.example "a \\" ${M}")`],
    ["a link title after an <…> destination with a space", `[x](<https://e.example/a b> "${M}")`],
    ["a reference definition's title", `[x][r]\n\n[r]: https://e.example "${M}"`],
  ];
  it.each(leaks)("removes the hidden text of %s", (_, text) => expect(sanitizeUntrusted(text)).not.toContain(M));

  // A token glued to a word character, including one separated only by a zero-width space that the
  // sanitiser removes, is still redacted (distinctive prefixes match anywhere).
  it.each([`x${CANARY}`, `MY_TOKEN_${CANARY}`, `1${CANARY}`, `a\u200B${CANARY}`])("redacts a token that follows a word character: %j", (text) => {
    expect(sanitizeUntrusted(text)).not.toContain(CANARY);
  });
  it("leaves words that merely contain sk- alone", () => {
    expect(sanitizeUntrusted("risk-assessment-for-the-new-feature-flag")).toBe("risk-assessment-for-the-new-feature-flag");
  });
  it("redacts the same token after a non-word character", () => {
    for (const text of [CANARY, `=${CANARY}`, `é${CANARY}`, `a\u200B ${CANARY}`]) expect(sanitizeUntrusted(text)).not.toContain(CANARY);
  });
});
