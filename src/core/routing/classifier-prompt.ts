import type { Profile } from "../config/profile.ts";
import { sanitizeUntrusted } from "../context/sanitize.ts";
import { truncateToTokens } from "../context/tokens.ts";
import { wrapUntrusted } from "../context/untrusted-block.ts";
import type { VerdictChoices } from "./verdict.ts";

export const CLASSIFIER_PLACEHOLDERS = ["agents", "profiles", "task", "boundary"] as const;
const PLACEHOLDER = /\{\{\s*([a-z_]+)\s*\}\}/g;

/** Problems with a classifier template: unknown placeholders, and `{{task}}` exactly once. */
export function checkClassifierTemplate(template: string): string[] {
  const problems: string[] = [];
  let tasks = 0;
  for (const [, name] of template.matchAll(PLACEHOLDER)) {
    if (name === "task") tasks++;
    else if (!(CLASSIFIER_PLACEHOLDERS as readonly string[]).includes(name ?? "")) problems.push(`unknown placeholder {{${name}}}; use ${CLASSIFIER_PLACEHOLDERS.map((p) => `{{${p}}}`).join(", ")}`);
  }
  if (tasks !== 1) problems.push(`{{task}} must appear exactly once (found ${tasks})`);
  return problems;
}

export interface ClassifierPromptInput {
  template: string;
  choices: VerdictChoices;
  profiles: ReadonlyMap<string, Profile>;
  task: { title: string; body: string; labels: readonly string[] };
  /** Random per run, 32+ hex digits. */
  boundary: string;
  /** Cap on the task's body in the prompt. */
  maxBodyTokens?: number;
}

/**
 * The classifier prompt. The template is filled in one pass, so text from the task can never
 * introduce a placeholder; the task (title, labels, body) is sanitised and goes only inside
 * untrusted blocks.
 */
export function renderClassifierPrompt(input: ClassifierPromptInput): string {
  const { choices, profiles, task, boundary } = input;
  const body = truncateToTokens(sanitizeUntrusted(task.body), input.maxBodyTokens ?? 2000);
  const taskText = [
    wrapUntrusted(sanitizeUntrusted(task.title), boundary, "issue title"),
    wrapUntrusted(task.labels.map(sanitizeUntrusted).join(", "), boundary, "labels"),
    wrapUntrusted(body.text + (body.cut ? "\n[… body cut]" : ""), boundary, "issue body"),
  ].join("\n");
  const values: Record<string, string> = {
    agents: choices.agents.map((a) => `- ${a}`).join("\n"),
    profiles: choices.profiles.map((p) => `- ${p}: ${profiles.get(p)?.description ?? ""}`).join("\n"),
    task: taskText,
    boundary,
  };
  return input.template.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole);
}
