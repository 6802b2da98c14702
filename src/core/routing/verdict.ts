import * as z from "zod";
import type { MainConfig } from "../config/main-config.ts";
import { BUILTIN_AGENTS } from "../config/main-config.ts";
import { Complexity } from "../ledger/task.ts";
import type { ClassifierOutcome, RoutingSetup } from "./decide-route.ts";
import { isAgentEnabled } from "./decide-route.ts";

/** The values a classifier may choose from. */
export interface VerdictChoices {
  agents: [string, ...string[]];
  profiles: [string, ...string[]];
}

export const REASON_MAX = 300;

/** Enabled agents (built-ins unless disabled, plus configured ones) and every known profile. */
export function verdictChoices(setup: RoutingSetup): VerdictChoices {
  const agents = enabledAgents(setup.config);
  const profiles = [...setup.profiles.keys()].sort();
  if (agents.length === 0 || profiles.length === 0) throw new Error("no enabled agent or no profile to choose from");
  return { agents: agents as [string, ...string[]], profiles: profiles as [string, ...string[]] };
}

export function enabledAgents(config: MainConfig): string[] {
  const names = new Set<string>([...BUILTIN_AGENTS, ...Object.keys(config.agents)]);
  return [...names].filter((a) => isAgentEnabled(config, a)).sort();
}

/** The verdict's schema: enums only, plus a short reason; extra keys are refused. */
export function verdictSchema(choices: VerdictChoices) {
  return z
    .object({
      agent: z.enum(choices.agents).describe("Which agent runs the task"),
      profile: z.enum(choices.profiles).describe("Which role profile fits the task"),
      complexity: Complexity.describe("low: a small local change; medium: a typical issue; high: broad or subtle work"),
      reason: z.string().trim().min(1).max(REASON_MAX).describe("One sentence: why"),
    })
    .strict();
}

/** Checks a model's answer, already parsed as JSON; names every problem for the repair round. */
export function checkVerdict(value: unknown, choices: VerdictChoices): ClassifierOutcome {
  const parsed = verdictSchema(choices).safeParse(value);
  if (parsed.success) return { ok: true, ...parsed.data, reason: parsed.data.reason.replace(/\s+/g, " ").trim() };
  const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join(".") : "answer"}: ${i.message}`);
  return { ok: false, reason: `invalid verdict (${problems.join("; ")})` };
}

/** Reads a verdict from raw model text: the whole text as JSON, or the last fenced JSON block. */
export function parseVerdictText(text: string, choices: VerdictChoices): ClassifierOutcome {
  const trimmed = text.trim();
  const fenced = [...trimmed.matchAll(/```(?:json)?\s*\n([\s\S]*?)\n```/g)].pop()?.[1];
  for (const candidate of [trimmed, fenced]) {
    if (candidate === undefined) continue;
    try {
      return checkVerdict(JSON.parse(candidate), choices);
    } catch {
      // not JSON; try the next candidate
    }
  }
  return { ok: false, reason: `not a JSON verdict (${JSON.stringify(trimmed.slice(0, 80))}${trimmed.length > 80 ? "…" : ""})` };
}
