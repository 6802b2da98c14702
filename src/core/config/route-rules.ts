import * as z from "zod";
import { Complexity } from "../ledger/task.ts";

/** A regular expression given as text; checked to compile when the rules load. */
const pattern = z.string().min(1).refine((s) => {
  try {
    new RegExp(s, "iu");
    return true;
  } catch {
    return false;
  }
}, "not a valid regular expression");

/** Conditions of a rule; every condition given must hold (labels: any of them). */
export const RuleWhen = z
  .object({
    labels: z.array(z.string().min(1)).min(1).optional().describe("The task has any of these labels"),
    title: pattern.optional().describe("Case-insensitive regular expression on the title"),
    body: pattern.optional().describe("Case-insensitive regular expression on the body"),
    paths: z.array(z.string().min(1)).min(1).optional().describe("Globs (*, **) matched against paths the task names"),
  })
  .strict()
  .refine((w) => Object.values(w).some((v) => v !== undefined), "a rule needs at least one condition");

export const RouteRule = z
  .object({
    name: z.string().min(1),
    when: RuleWhen,
    then: z
      .object({
        agent: z.string().min(1).optional().describe("Omit to use the profile's preferred agent"),
        profile: z.string().min(1),
        complexity: Complexity.optional(),
      })
      .strict(),
  })
  .strict();
export type RouteRule = z.infer<typeof RouteRule>;

/** router/routes.yml: rules tried in order; the first that matches decides. */
export const RoutesFile = z.object({ rules: z.array(RouteRule).default([]) }).strict();
export type RoutesFile = z.infer<typeof RoutesFile>;

/** Rules that name a profile or agent that does not exist are errors; a disabled agent is a warning. */
export function checkRules(
  rules: readonly RouteRule[],
  profiles: ReadonlySet<string>,
  agentState: (agent: string) => "enabled" | "disabled" | "unknown",
): { path: (string | number)[]; message: string; severity: "error" | "warning" }[] {
  const problems: { path: (string | number)[]; message: string; severity: "error" | "warning" }[] = [];
  rules.forEach((rule, i) => {
    if (!profiles.has(rule.then.profile)) problems.push({ path: ["rules", i, "then", "profile"], severity: "error", message: `rule ${rule.name}: unknown profile "${rule.then.profile}"` });
    const agent = rule.then.agent;
    if (agent === undefined) return;
    const state = agentState(agent);
    if (state === "unknown") problems.push({ path: ["rules", i, "then", "agent"], severity: "error", message: `rule ${rule.name}: unknown agent "${agent}"` });
    if (state === "disabled") problems.push({ path: ["rules", i, "then", "agent"], severity: "warning", message: `rule ${rule.name}: agent "${agent}" is disabled, so this rule never decides` });
  });
  return problems;
}
