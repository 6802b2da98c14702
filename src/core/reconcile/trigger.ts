import type { RouteHint } from "../ledger/task.ts";

/**
 * The only input the app knows. Each entrypoint turns its world (argv, an Actions event, a webhook,
 * a timer) into one Trigger; nothing downstream reads payloads, argv or the environment. Every
 * reconcile also does the tick work, whatever its trigger (level-triggered).
 */
export type Trigger = IssueEvent | CommentEvent | Tick | Work | Cli;

/** Who did it, as GitHub reports it. Authorisation keys on the numeric id and the permission API, never the login or author_association. */
export interface GitHubUser {
  login: string;
  id: number;
  /** "User", "Bot", "Organization", … Only a User may command, unless its id is in `github.allowedBots`. */
  type: string;
}

/** An issue changed on GitHub. */
export interface IssueEvent {
  kind: "issue";
  action: "opened" | "labeled" | "unlabeled" | "edited" | "closed" | "reopened";
  /** The webhook delivery id, for dedupe. */
  deliveryId?: string;
  issue: { number: number; title: string; body: string; labels: string[]; author: GitHubUser };
  /**
   * Who did it (opened, labelled, closed). A task is made only for a sender with write access: an
   * issue form can put the trigger label on anyone's new issue, and a stranger must not spend the
   * maintainers' money.
   */
  sender: GitHubUser;
  /** The label added or removed, for labeled / unlabeled. */
  label?: string;
  /** For edited: which of title and body the edit changed (the payload's `changes`). */
  changed?: ("title" | "body")[];
}

/** A comment was created on an issue (edited comments are never instructions). */
export interface CommentEvent {
  kind: "comment";
  deliveryId?: string;
  issue: number;
  comment: { id: number; body: string; author: GitHubUser };
}

/** Nothing happened but time passed: due retries, expired leases, parents whose children finished. */
export interface Tick {
  kind: "tick";
}

/** "You are the worker for this claimed attempt (or review)": perform it and record the result. */
export type Work = AttemptWork | ReviewWork;

export interface AttemptWork {
  kind: "work";
  taskId: number;
  attempt: number;
  key: string;
}

/**
 * "You are the reviewer for this claimed review" (`key` is the task's review claim, `review-…`):
 * review the task and record the decision, or (the Action's worker) hand it on.
 */
export interface ReviewWork {
  kind: "work";
  review: true;
  taskId: number;
  key: string;
}

/** The local CLI's verbs that change the ledger. */
export interface Cli {
  kind: "cli";
  command: CliCommand;
}

export type CliCommand =
  | { verb: "add"; title: string; body: string; labels: string[]; hint?: RouteHint }
  | { verb: "route"; taskId: number }
  | { verb: "run"; taskId: number }
  | { verb: "next" }
  | { verb: "serve" }
  | { verb: "retry"; taskId: number; agent?: string }
  | { verb: "approve"; taskId: number }
  | { verb: "cancel"; taskId: number; reason?: string };

/** A short description for logs and commit messages. */
export function describeTrigger(t: Trigger): string {
  switch (t.kind) {
    case "issue":
      return `issue #${t.issue.number} ${t.action}`;
    case "comment":
      return `comment on #${t.issue}`;
    case "tick":
      return "tick";
    case "work":
      return "review" in t ? `review of task ${t.taskId}` : `work on task ${t.taskId} attempt ${t.attempt}`;
    case "cli":
      return `cli ${t.command.verb}${"taskId" in t.command ? ` ${t.command.taskId}` : ""}`;
  }
}
