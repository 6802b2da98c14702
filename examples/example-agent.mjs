#!/usr/bin/env node
// EXAMPLE COMMAND AGENT — not a coding agent. It shows the handoff contract that any CLI agent
// must honour, and lets `npm run demo` run the whole pipeline without API keys:
//   - the context bundle arrives on stdin (its path is also in AGENT_ROUTER_BUNDLE);
//   - the working directory is the task's own git worktree;
//   - the handoff JSON goes to the file named by AGENT_ROUTER_OUTPUT.
// As a planner without children's results it delegates three tasks; as a reviewer it approves
// when it sees a diff; as anything else it writes a small notes file and reports done.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";

const bundle = readFileSync(0, "utf8");
const id = process.env.AGENT_ROUTER_TASK_ID;
const out = process.env.AGENT_ROUTER_OUTPUT;
const role = /^## Your role \(([\w-]+)\)$/m.exec(bundle)?.[1] ?? "unknown";
const resumed = bundle.includes("## Results of this task's children");
const title = /<untrusted-[0-9a-f]+ source="title">\n(.*)\n/.exec(bundle)?.[1] ?? `task ${id}`;
const delayMs = Number(process.env.EXAMPLE_AGENT_DELAY_MS ?? 0); // pass through with agents.<name>.env
const children = Number(process.env.EXAMPLE_AGENT_CHILDREN ?? 3);

const PARTS = [
  (n) => ({ key: `docs${n.trim()}`, title: `Document${n}: ${title}`, body: "Write the user-facing notes.", profile: "docs" }),
  (n) => ({ key: `tests${n.trim()}`, title: `Test${n}: ${title}`, body: "Add tests for the behaviour.", profile: "tests" }),
  (n) => ({ key: `code${n.trim()}`, title: `Implement${n}: ${title}`, body: "Make the change.", profile: "feature" }),
];

function finish(handoff) {
  writeFileSync(out, JSON.stringify({ schemaVersion: 1, filesChanged: [], ...handoff }, null, 2));
}

setTimeout(() => {
  if (role === "review") {
    // A reviewer approves when it can see the author's diff, and asks for changes otherwise.
    const files = [...bundle.matchAll(/^diff --git a\/(\S+)/gm)].map((m) => m[1]);
    const review = files.length > 0 ? { decision: "approve", notes: `Checked ${files.join(", ")}.` } : { decision: "request_changes", notes: "There is no diff to review." };
    finish({ status: "done", summary: `Review: ${review.decision}`, review });
    return;
  }
  if (role === "planner" && !resumed) {
    finish({
      status: "delegate",
      summary: `Split "${title}" into ${children === 3 ? "three" : children} independent parts.`,
      delegations: Array.from({ length: children }, (_, i) => PARTS[i % PARTS.length](i < PARTS.length ? "" : ` ${i + 1}`)),
    });
    return;
  }
  mkdirSync("notes", { recursive: true });
  const file = `notes/task-${id}.md`;
  writeFileSync(file, `# ${title}\n\nWritten by the example agent as profile ${role}.\n`);
  const summary = resumed ? `All ${children === 3 ? "three" : children} parts of "${title}" are done; their results are in the bundle.` : `Wrote ${file} for "${title}".`;
  finish({ status: "done", summary, filesChanged: [file] });
}, delayMs);
