import { mentionedPaths } from "../routing/decide-route.ts";

/** Files that tell an agent how to work in a repository, in the order they are shown. */
export const INSTRUCTION_FILES = ["AGENTS.md", "CLAUDE.md", ".github/copilot-instructions.md", "CONTRIBUTING.md", ".github/CONTRIBUTING.md", "docs/CONTRIBUTING.md"];

const STOPWORDS = new Set(
  "about above after again against because been before being below between both could does doing down during each from further have having here into just more most must need only other over same should some such than that their them then there these they this those through under until very were what when where which while will with would your yours make made also like want please issue task file files code test tests when fails error".split(" "),
);

/** Distinctive words of a task (4+ letters, not common English), lower-case, at most `max`. */
export function taskTerms(text: string, max = 12): string[] {
  const counts = new Map<string, number>();
  for (const word of text.toLowerCase().match(/[a-z][a-z0-9_]{3,40}/g) ?? []) {
    if (!STOPWORDS.has(word)) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, max).map(([w]) => w);
}

export interface FileSelection {
  instructions: string[];
  /** Files that match the task, best first, with why. */
  matches: { path: string; why: string }[];
}

/**
 * Which repository files a bundle should show: the instruction files that exist, then up to `max`
 * files the task names or whose names contain its terms. Linear in the number of paths.
 */
export function selectFiles(task: { title: string; body: string }, paths: readonly string[], max = 5): FileSelection {
  const present = new Set(paths);
  const instructions = INSTRUCTION_FILES.filter((f) => present.has(f));
  const text = `${task.title}\n${task.body}`;
  const named = mentionedPaths(text);
  const terms = taskTerms(text);
  const scored: { path: string; score: number; why: string }[] = [];
  for (const path of paths) {
    if (instructions.includes(path)) continue;
    const lower = path.toLowerCase();
    const base = lower.slice(lower.lastIndexOf("/") + 1);
    const stem = base.replace(/\.[^.]*$/, "");
    const exact = named.find((n) => path === n || path.endsWith(`/${n}`));
    if (exact !== undefined) {
      scored.push({ path, score: 100, why: `named in the task (${exact})` });
      continue;
    }
    const inName = terms.filter((t) => stem.includes(t));
    if (inName.length > 0) scored.push({ path, score: 10 * inName.length - path.split("/").length * 0.1, why: `name contains ${inName.join(", ")}` });
  }
  scored.sort((a, b) => b.score - a.score || a.path.localeCompare(b.path));
  return { instructions, matches: scored.slice(0, max).map(({ path, why }) => ({ path, why })) };
}
