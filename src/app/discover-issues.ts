import type { IssueEvent } from "../core/reconcile/trigger.ts";
import { openedByRouter } from "../core/sync/task-links.ts";
import type { GitHubIo, ReconcileDeps } from "./app-deps.ts";
import { logOf } from "./app-deps.ts";

/** How many labelled issues without a task one run takes up; the rest wait for the next run. */
export const DISCOVER_PER_RUN = 10;

/** The prefix of the router's status labels: an issue carrying one has (or had) a task. */
const STATUS_LABEL_PREFIX = "agent-router/";

/**
 * The issue events a run never saw: open issues with the trigger label that have no task, because
 * the run for their `labeled` event was dropped or cancelled (GitHub's `concurrency` replaces a
 * pending run with a newer one), or came during an outage. Each becomes the `labeled` event that
 * would have made its task, sent by whoever last added the label (the events API says who), so
 * the sender's permission is checked as for a live event. An issue with a router label had a task
 * already (perhaps archived since) and is left alone, and so is an issue the router opened for a
 * task (a child's, a scheduled job's: `openedByRouter`). Oldest first, at most `DISCOVER_PER_RUN`
 * per run.
 */
export async function missedIssueEvents(deps: ReconcileDeps, gh: GitHubIo): Promise<IssueEvent[]> {
  const label = deps.config.github.triggerLabel;
  const [issues, { ledger }] = await Promise.all([gh.api.openIssuesLabelled(label), deps.store.read()]);
  const tracked = new Set(ledger.tasks.flatMap((t) => (t.source.kind === "issue" ? [t.source.issue] : [])));
  const missed = issues.filter((i) => !tracked.has(i.number) && !i.labels.some((l) => l.toLowerCase().startsWith(STATUS_LABEL_PREFIX)) && !openedByRouter(ledger, i)).slice(0, DISCOVER_PER_RUN);
  const events: IssueEvent[] = [];
  for (const issue of missed) {
    const sender = await gh.api.labelledBy(issue.number, label);
    if (sender === null) continue;
    logOf(deps).info("an issue was labelled without its event reaching a run; taking it up", { issue: issue.number, labelledBy: sender.login });
    events.push({
      kind: "issue",
      action: "labeled",
      label,
      issue: { number: issue.number, title: issue.title, body: issue.body, labels: issue.labels, author: { login: issue.author.login, id: issue.author.id, type: issue.author.type } },
      sender: { login: sender.login, id: sender.id, type: sender.type },
    });
  }
  return events;
}
