import * as z from "zod";

const name = z.string().regex(/^[a-z][a-z0-9-]*$/, "lower-case letters, digits and dashes");

/** A role profile: what an agent is asked to be and do for a kind of task. */
export const Profile = z
  .object({
    name: name.describe("The profile's name; a file profiles/<name>.yml must carry the same name"),
    description: z.string().min(1).describe("One line for people: when this profile fits"),
    role: z.string().min(1).describe("Who the agent is for this task"),
    instructions: z.string().min(1).describe("How to do the work"),
    constraints: z.array(z.string().min(1)).default([]).describe("Hard limits the agent must respect"),
    allowedTools: z.array(z.string().min(1)).default([]).describe("Tools the agent may use; empty means the agent's defaults"),
    preferredAgents: z.array(name).default([]).describe("Agents that suit this profile, best first"),
    delegation: z
      .object({
        allowed: z.boolean().default(false).describe("May this profile split work into child tasks?"),
        to: z.array(name).default([]).describe("Profiles its children may have"),
      })
      .strict()
      .prefault({}),
    approval: z.enum(["none", "before_run", "before_pr"]).default("none").describe("Whether a person must approve first"),
    review: z
      .object({
        required: z.boolean().default(false).describe("A different agent reviews the diff (profile review) before the task is done"),
        maxRounds: z.number().int().min(1).max(5).default(2).describe("Change requests before a person is asked"),
      })
      .strict()
      .prefault({}),
    timeoutMinutes: z.number().positive().max(24 * 60).default(30),
    budget: z
      .object({
        maxCostUsd: z.number().positive().optional(),
        maxTurns: z.number().int().positive().optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type Profile = z.infer<typeof Profile>;

export interface ProfileProblem {
  profile: string;
  path: (string | number)[];
  message: string;
}

/** Cross-profile rules: delegation targets exist, and only delegating profiles name targets. */
export function checkProfiles(profiles: ReadonlyMap<string, Profile>): ProfileProblem[] {
  const problems: ProfileProblem[] = [];
  for (const [key, p] of profiles) {
    if (p.name !== key) problems.push({ profile: key, path: ["name"], message: `the file defines "${p.name}" but is named "${key}"` });
    p.delegation.to.forEach((target, i) => {
      if (!profiles.has(target)) problems.push({ profile: key, path: ["delegation", "to", i], message: `unknown profile "${target}"` });
    });
    if (!p.delegation.allowed && p.delegation.to.length > 0) {
      problems.push({ profile: key, path: ["delegation", "to"], message: "delegation.to is set but delegation.allowed is false" });
    }
  }
  return problems;
}
