import type { MainConfig } from "../config/main-config.ts";
import { BUILTIN_AGENTS } from "../config/main-config.ts";
import type { Profile } from "../config/profile.ts";
import type { RouteRule } from "../config/route-rules.ts";
import type { Route } from "../ledger/task.ts";

type Complexity = Route["complexity"];

/** What the task looks like to the router. */
export interface RoutableTask {
  title: string;
  body: string;
  labels: readonly string[];
  /** Paths the task names or changes, for `paths` rules. */
  paths?: readonly string[];
}

/** An explicit choice from a person or a parent: `/agent route`, `--agent/--profile`, a job's or parent's hint. */
export interface RouteHint {
  agent?: string;
  profile?: string;
  from: "command" | "cli" | "job" | "parent";
}

/** The classifier's answer, already checked against the enums, or why there is none. */
export type ClassifierOutcome =
  | { ok: true; agent: string; profile: string; complexity: Complexity; reason: string }
  | { ok: false; reason: string };

export interface RoutingSetup {
  config: MainConfig;
  profiles: ReadonlyMap<string, Profile>;
  rules: readonly RouteRule[];
}

export interface RouteDecision {
  route: Route;
  /** Each step tried, in order, for `route --explain`. */
  trail: string[];
  /** True when no rule matched, no verdict was given and an override did not settle both agent and profile: a classifier could decide. */
  wantsVerdict: boolean;
}

export function isAgentEnabled(config: MainConfig, agent: string): boolean {
  const own = config.agents[agent];
  if (own) return own.enabled;
  return (BUILTIN_AGENTS as readonly string[]).includes(agent);
}

/** `**` any depth, `*` within one segment, `?` one character. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split(/(\*\*\/?|\*|\?)/)
    .map((part) => {
      if (part === "**/" ) return "(?:.*/)?";
      if (part === "**") return ".*";
      if (part === "*") return "[^/]*";
      if (part === "?") return "[^/]";
      return part.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    })
    .join("");
  return new RegExp(`^${body}$`);
}

/** Why a rule matches, or null. */
export function matchRule(rule: RouteRule, task: RoutableTask): string | null {
  const why: string[] = [];
  const { labels, title, body, paths } = rule.when;
  if (labels) {
    const hit = labels.find((l) => task.labels.includes(l));
    if (!hit) return null;
    why.push(`label ${hit}`);
  }
  if (title !== undefined) {
    if (!new RegExp(title, "iu").test(task.title)) return null;
    why.push(`title ~ /${title}/`);
  }
  if (body !== undefined) {
    if (!new RegExp(body, "iu").test(task.body)) return null;
    why.push(`body ~ /${body}/`);
  }
  if (paths) {
    const globs = paths.map(globToRegExp);
    const hit = (task.paths ?? []).find((p) => globs.some((g) => g.test(p)));
    if (hit === undefined) return null;
    why.push(`path ${hit}`);
  }
  return why.join(", ");
}

/** The `agent:<name>` label, if any. */
export function labelAgent(labels: readonly string[]): string | undefined {
  return labels.find((l) => l.startsWith("agent:"))?.slice("agent:".length) || undefined;
}

/** The first enabled agent among the profile's preferred ones, else the fallback agent. */
function agentForProfile(setup: RoutingSetup, profile: string): string {
  const preferred = setup.profiles.get(profile)?.preferredAgents ?? [];
  return preferred.find((a) => isAgentEnabled(setup.config, a)) ?? setup.config.router.fallback.agent;
}

/**
 * Decides who runs a task, trying in order: an explicit override (the `agent:<name>` label or a
 * hint) → the rules, first match wins → the classifier's verdict → the configured fallback. An
 * override may name only the agent or only the profile; the rest comes from the next step that
 * decides. Unknown or disabled choices are skipped with a note in the trail, never obeyed.
 */
export function decideRoute(task: RoutableTask, setup: RoutingSetup, hint?: RouteHint, verdict?: ClassifierOutcome): RouteDecision {
  const trail: string[] = [];
  const usableAgent = (agent: string | undefined, from: string): string | undefined => {
    if (agent === undefined) return undefined;
    if (isAgentEnabled(setup.config, agent)) return agent;
    trail.push(`${from}: agent "${agent}" is not enabled; ignored`);
    return undefined;
  };
  const usableProfile = (profile: string | undefined, from: string): string | undefined => {
    if (profile === undefined) return undefined;
    if (setup.profiles.has(profile)) return profile;
    trail.push(`${from}: profile "${profile}" does not exist; ignored`);
    return undefined;
  };

  let base: Omit<Route, "model"> | undefined;
  for (const rule of setup.rules) {
    const why = matchRule(rule, task);
    if (why === null) continue;
    const profile = usableProfile(rule.then.profile, `rule ${rule.name}`);
    const agent = rule.then.agent === undefined ? (profile ? agentForProfile(setup, profile) : undefined) : usableAgent(rule.then.agent, `rule ${rule.name}`);
    if (!profile || !agent) continue;
    trail.push(`rule ${rule.name} matched (${why})`);
    base = { agent, profile, complexity: rule.then.complexity ?? "medium", reason: `rule ${rule.name}: ${why}`, decidedBy: "rule" };
    break;
  }
  const ruleMatched = base !== undefined;
  if (!base && setup.rules.length > 0) trail.push("no rule matched");
  if (!base && verdict) {
    if (verdict.ok) {
      const agent = usableAgent(verdict.agent, "classifier");
      const profile = usableProfile(verdict.profile, "classifier");
      if (agent && profile) {
        trail.push(`classifier chose ${agent}/${profile} (${verdict.complexity})`);
        base = { agent, profile, complexity: verdict.complexity, reason: `classifier: ${verdict.reason}`, decidedBy: "llm" };
      }
    } else {
      trail.push(`classifier gave no verdict: ${verdict.reason}`);
    }
  }
  if (!base) {
    const { agent, profile } = setup.config.router.fallback;
    trail.push(`fallback ${agent}/${profile}`);
    base = { agent, profile, complexity: "medium", reason: verdict && !verdict.ok ? `fallback (${verdict.reason})` : "fallback", decidedBy: "fallback" };
  }

  const overrideFrom = hint ? `${hint.from} hint` : "label";
  const overrideAgent = usableAgent(hint?.agent ?? labelAgent(task.labels), overrideFrom);
  const overrideProfile = usableProfile(hint?.profile, overrideFrom);
  if (overrideAgent || overrideProfile) {
    const parts = [overrideAgent ? `agent ${overrideAgent}` : "", overrideProfile ? `profile ${overrideProfile}` : ""].filter(Boolean).join(", ");
    const source = hint?.agent || hint?.profile ? `${hint.from} hint` : `label agent:${overrideAgent ?? ""}`;
    trail.push(`override from ${source}: ${parts}`);
    const profile = overrideProfile ?? base.profile;
    const agent = overrideAgent ?? (overrideProfile ? agentForProfile(setup, profile) : base.agent);
    base = { ...base, agent, profile, reason: `${source}: ${parts} (rest: ${base.reason})`, decidedBy: "override" };
  }
  const model = setup.config.agents[base.agent]?.models?.[base.complexity];
  const wantsVerdict = !ruleMatched && verdict === undefined && !(overrideAgent && overrideProfile);
  return { route: model ? { ...base, model } : base, trail, wantsVerdict };
}

/** Repository paths a task's text names: `src/app.ts`, `docs/guide/intro.md`, `README.md`. */
export function mentionedPaths(text: string): string[] {
  const found = text.match(/(?<![\w/.-])(?:[\w.-]+\/)*[\w-]+\.[A-Za-z0-9]{1,8}(?![\w/])|(?<![\w/.-])(?:[\w.-]+\/)+[\w.-]+/g) ?? [];
  return [...new Set(found.filter((p) => !/^\d+(\.\d+)+$/.test(p) && !/^https?:/.test(p)))];
}
