// npm run demo -- --github: the GitHub Action end to end without GitHub. The committed bundle
// (`node dist/action.js`, as a runner starts it) runs against the project's own fake GitHub on
// 127.0.0.1 and a local bare repository it reads as acme/widgets: a labelled issue becomes a routed
// planner task; its worker run delegates three children; each child runs as a dispatched worker
// run of its own; the parent resumes with their results and finishes. Then the issue thread is
// printed as it would appear on GitHub: the tracking comments, labels, sub-issues and pull request.
import { execFile } from "node:child_process";
import { cpSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { parseMarker } from "../src/core/sync/markers.ts";
import type { ActionWorld, Runner } from "../test/support/action-world.ts";
import { EXAMPLE_CONFIG, REPO, startActionWorld } from "../test/support/action-world.ts";
import { removeTempDirs } from "../test/support/git-repo.ts";

const run = promisify(execFile);
const ACTION = resolve("dist/action.js");
const ONLY_EXAMPLE = "  claude: { enabled: false }\n  codex: { enabled: false }\n  opencode: { enabled: false }\n";
const CONFIG = EXAMPLE_CONFIG.replace("profile: feature", "profile: planner").replace("agents:\n", `agents:\n${ONLY_EXAMPLE}`);

async function step(world: ActionWorld, r: Runner, mode: string, event: string, payload: unknown): Promise<Record<string, string>> {
  const env = Object.fromEntries(Object.entries(world.env(r, mode, event, payload)).filter((e): e is [string, string] => e[1] !== undefined));
  await run(process.execPath, [ACTION], { env, timeout: 300_000 });
  return world.outputs(r);
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

const world = await startActionWorld(CONFIG, { exampleAgent: resolve("examples/example-agent.mjs") });
try {
  const repo = world.fake.state.mustRepo(REPO);
  say(`fake GitHub at ${world.fake.url}; acme/widgets is a local bare repository\n`);
  say("issues.labeled #1 → node dist/action.js (mode auto)");
  const first = await step(world, world.runner(), "auto", "issues", world.labelledIssue());
  say(`  task ${first["task-id"]}: ${first["status"]}; worker runs dispatched: ${repo.dispatches.length}`);
  for (let next = 0; next < repo.dispatches.length && next < 20; next++) {
    const inputs = repo.dispatches[next]!.inputs as Record<string, string>;
    const event = { inputs, ref: "refs/heads/main" };
    say(`workflow_dispatch (task ${inputs["task"]}, attempt ${inputs["attempt"]}, agent ${inputs["agent"]}) → worker job, then record job`);
    const work = world.runner();
    const performed = await step(world, work, "worker", "workflow_dispatch", event);
    const rec = world.runner();
    cpSync(performed["artifact-dir"]!, resolve(rec.workspace, ".agent-router-attempt"), { recursive: true });
    const recorded = await step(world, rec, "record", "workflow_dispatch", event);
    say(`  task ${recorded["task-id"]}: ${recorded["status"]}${recorded["pr-url"] ? `, ${recorded["pr-url"]}` : ""}`);
  }

  say("\n================ the issue thread, as GitHub shows it ================");
  for (const issue of [...repo.issues.values()].filter((i) => !i.pull_request)) {
    say(`\n#${issue.number} ${issue.title}  [${issue.state}]  labels: ${issue.labels.join(", ")}`);
    if (issue.subIssueIds.length > 0) say(`  sub-issues: ${issue.subIssueIds.map((id) => `#${[...repo.issues.values()].find((i) => i.id === id)?.number}`).join(", ")}`);
    for (const c of [...repo.comments.values()].filter((c) => c.issue_number === issue.number)) {
      const kind = parseMarker(c.body)?.kind ?? "comment";
      say(`\n  ── ${c.user.login} (${kind}) ──`);
      for (const line of c.body.split("\n")) if (!line.startsWith("<!--")) say(`  ${line}`);
    }
  }
  for (const p of repo.pulls.values()) say(`\nPull request #${p.number} ${p.title} (${p.head} → ${p.base}, ${p.state})\n${(p.body ?? "").split("\n").map((l) => `  ${l}`).join("\n")}`);
  say(`\n${world.fake.requests.length} requests to the fake GitHub, ${world.fake.requests.filter((q) => q.mutating).length} of them writes; schema problems: ${world.fake.state.schemaProblems.length}`);
} finally {
  await world.close();
  removeTempDirs();
}
