import { Job } from "../../core/config/job.ts";
import { RouterError } from "../../core/errors.ts";
import type { ConfigSource } from "../../core/ports.ts";
import { BUILTIN_JOBS } from "./builtin-data.generated.ts";
import { toConfigSource } from "./config-source.ts";
import { formatConfigProblem } from "./load-config.ts";
import { readUserYamlFiles } from "./load-routing.ts";
import { parseYamlWithSchema, type FileProblem } from "./yaml-file.ts";

export interface LoadedJobs {
  jobs: Map<string, Job>;
  sources: Map<string, string>;
  problems: FileProblem[];
}

/**
 * The scheduled jobs: the built-in examples (disabled), with `.github/agent-router/jobs/<name>.yml`
 * replacing a built-in of the same name or adding a job. A job's `name` must match its file. `root`
 * is a source, or the path of a working tree.
 */
export async function loadJobs(root: string | ConfigSource, knownProfiles: ReadonlySet<string>): Promise<LoadedJobs> {
  const source = toConfigSource(root);
  const jobs = new Map<string, Job>();
  const sources = new Map<string, string>();
  const problems: FileProblem[] = [];
  const add = (name: string, text: string, file: string): void => {
    const parsed = parseYamlWithSchema(Job, text, file);
    problems.push(...parsed.problems);
    if (!parsed.value) return;
    const job = parsed.value;
    if (job.name !== name) problems.push({ file, path: ["name"], severity: "error", message: `the file defines "${job.name}" but is named "${name}"; rename one of them`, line: parsed.locate(["name"]) });
    if (job.task.profile !== undefined && !knownProfiles.has(job.task.profile)) {
      problems.push({ file, path: ["task", "profile"], severity: "error", message: `unknown profile "${job.task.profile}"; use one of ${[...knownProfiles].sort().join(", ")}`, line: parsed.locate(["task", "profile"]) });
    }
    jobs.set(name, job);
    sources.set(name, file);
  };
  for (const [name, text] of Object.entries(BUILTIN_JOBS)) add(name, text, `jobs/${name}.yml (built-in)`);
  for (const { name, file, text } of await readUserYamlFiles(source, "jobs", problems)) add(name, text, file);
  return { jobs, sources, problems };
}

/**
 * The jobs a reconcile runs: the enabled ones, by name. Any error in a job file (built-in or the
 * repository's) stops the run with E_CONFIG_INVALID naming file and line, as a bad config does: a
 * job that half-loads must not quietly stop firing.
 */
export async function loadEnabledJobs(root: string | ConfigSource, knownProfiles: ReadonlySet<string>): Promise<Job[]> {
  const loaded = await loadJobs(root, knownProfiles);
  const errors = loaded.problems.filter((p) => p.severity === "error");
  if (errors.length > 0) throw new RouterError("E_CONFIG_INVALID", `scheduled jobs are invalid:\n${errors.map((p) => `  ${formatConfigProblem(p)}`).join("\n")}`, { problems: errors });
  return [...loaded.jobs.values()].filter((j) => j.enabled).sort((a, b) => a.name.localeCompare(b.name));
}
