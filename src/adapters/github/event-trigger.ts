// A GitHub event (the Action's GITHUB_EVENT_NAME and event file, or the app's webhook name, payload
// and X-GitHub-Delivery id) to the router's Trigger. Both entrypoints share it so they read payloads
// the same way. Pure: no I/O, no environment. The schemas describe only the fields read and let every
// other key through, since GitHub adds fields all the time.
import { z } from "zod";
import { RouterError } from "../../core/errors.ts";
import type { GitHubUser, IssueEvent, Trigger } from "../../core/reconcile/trigger.ts";

export type EventReading = { trigger: Trigger } | { ignored: string };

export interface GitHubEvent {
  /** GITHUB_EVENT_NAME or the X-GitHub-Event header: "issues", "issue_comment", "schedule", … */
  name: string;
  payload: unknown;
  /** X-GitHub-Delivery, kept on issue and comment triggers for dedupe. */
  deliveryId?: string;
}

/**
 * Reads one event. Events and actions agent-router does not act on come back as `{ ignored }` with
 * the reason; a payload that is not what GitHub sends for an event it acts on throws E_EVENT_INVALID
 * naming field paths and types only (the message reaches logs, so it never quotes titles or bodies).
 * A comment on a pull request is still a CommentEvent with the pull request's number: the core
 * decides what a comment there means.
 */
export function triggerFromEvent(event: GitHubEvent): EventReading {
  switch (event.name) {
    case "issues":
      return fromIssues(event);
    case "issue_comment":
      return fromComment(event);
    case "schedule":
      return { trigger: { kind: "tick" } };
    case "workflow_dispatch":
      return fromDispatch(event);
    default:
      return { ignored: `event ${nameOf(event.name)} is not one agent-router acts on` };
  }
}

// The `error` texts say what was expected; with the fallback in `parse`, they are the only zod text
// that reaches a message.
const positiveInt = z.int({ error: "a positive integer" }).positive({ error: "a positive integer" });
const str = z.string({ error: "a string" });
const strOrNull = z.string({ error: "a string or null" }).nullish();
const user = z.looseObject(
  { login: z.string({ error: "a non-empty string" }).min(1, { error: "a non-empty string" }), id: positiveInt, type: str },
  { error: "a user object" },
);
const withAction = z.looseObject({ action: str }, { error: "an object" });

const issuesPayload = z.looseObject(
  {
    issue: z.looseObject(
      {
        number: positiveInt,
        title: str,
        body: strOrNull,
        // Absent on some actions (pinned, unpinned); each label is a name or a label object.
        labels: z.array(z.union([z.string(), z.looseObject({ name: z.string() })], { error: "a label name or an object with a string name" }), { error: "an array" }).optional(),
        user,
        pull_request: z.unknown().optional(),
      },
      { error: "an issue object" },
    ),
    sender: user,
    label: z.looseObject({ name: str }, { error: "an object with a name, or null" }).nullish(),
    // edited: the fields that changed, each with its old value (only which ones is read).
    changes: z.looseObject({}, { error: "an object" }).optional(),
  },
  { error: "an object" },
);

const commentPayload = z.looseObject(
  {
    issue: z.looseObject({ number: positiveInt }, { error: "an issue object" }),
    comment: z.looseObject({ id: positiveInt, body: strOrNull, user }, { error: "a comment object" }),
  },
  { error: "an object" },
);

const ISSUE_ACTIONS = ["opened", "labeled", "unlabeled", "edited", "closed", "reopened"] as const satisfies readonly IssueEvent["action"][];
const isIssueAction = (a: string): a is IssueEvent["action"] => (ISSUE_ACTIONS as readonly string[]).includes(a);

function fromIssues(event: GitHubEvent): EventReading {
  const { action } = parse(event, withAction);
  if (!isIssueAction(action)) return { ignored: `issues action ${nameOf(action)} is not one agent-router acts on` };
  const p = parse(event, issuesPayload, action);
  // GitHub's own examples of milestoned/demilestoned carry a pull request; tasks come from issues only.
  if (p.issue.pull_request !== undefined && p.issue.pull_request !== null) return { ignored: `issues event for #${p.issue.number}, which is a pull request` };
  const trigger: IssueEvent = {
    kind: "issue",
    action,
    ...deliveryOf(event),
    issue: {
      number: p.issue.number,
      title: p.issue.title,
      body: p.issue.body ?? "",
      labels: (p.issue.labels ?? []).map((l) => (typeof l === "string" ? l : l.name)),
      author: userOf(p.issue.user),
    },
    sender: userOf(p.sender),
  };
  if ((action === "labeled" || action === "unlabeled") && p.label) trigger.label = p.label.name;
  if (action === "edited") trigger.changed = (["title", "body"] as const).filter((k) => p.changes !== undefined && Object.hasOwn(p.changes, k));
  return { trigger };
}

function fromComment(event: GitHubEvent): EventReading {
  const { action } = parse(event, withAction);
  if (action === "edited") return { ignored: 'issue_comment action "edited": an edited comment is not an instruction' };
  if (action === "deleted") return { ignored: 'issue_comment action "deleted": a deleted comment is not an instruction' };
  if (action !== "created") return { ignored: `issue_comment action ${nameOf(action)} is not one agent-router acts on` };
  const p = parse(event, commentPayload, action);
  const comment = { id: p.comment.id, body: p.comment.body ?? "", author: userOf(p.comment.user) };
  return { trigger: { kind: "comment", ...deliveryOf(event), issue: p.issue.number, comment } };
}

const DECIMAL = "must be a positive integer in decimal, without sign or leading zeros";
const decimal = z.string({ error: "a string" }).superRefine((s, ctx) => {
  const wrong = decimalProblem(s);
  if (wrong) ctx.addIssue({ code: "custom", message: `${DECIMAL}; it ${wrong}` });
});
const KEY = "must be 1 to 128 characters of A-Z a-z 0-9 . _ : -";
const attemptKey = z.string({ error: "a string" }).superRefine((s, ctx) => {
  const wrong = s === "" ? "is empty" : s.length > 128 ? `is ${s.length} characters long` : /^[A-Za-z0-9._:-]+$/.test(s) ? undefined : "has another character";
  if (wrong) ctx.addIssue({ code: "custom", message: `${KEY}; it ${wrong}` });
});
const REVIEW_KEY = "must be a review claim's key: review- and up to 121 characters of A-Z a-z 0-9 . _ : -";
const reviewKey = z.string({ error: "a string" }).superRefine((s, ctx) => {
  const wrong = !s.startsWith("review-") ? "does not start with review-" : s.length > 128 ? `is ${s.length} characters long` : /^review-[A-Za-z0-9._:-]+$/.test(s) ? undefined : s === "review-" ? "has nothing after review-" : "has another character";
  if (wrong) ctx.addIssue({ code: "custom", message: `${REVIEW_KEY}; it ${wrong}` });
});
/** An input a review run leaves at its default: absent (an older workflow) or empty. */
const unset = (what: string) =>
  z
    .unknown()
    .superRefine((v, ctx) => {
      if (v !== "") ctx.addIssue({ code: "custom", message: `must be empty in a review run (${what})` });
    })
    .optional();
const dispatchPayload = z.looseObject({ inputs: z.looseObject({ task: z.unknown().optional(), review: z.unknown().optional() }, { error: "an object or null" }).nullish() }, { error: "an object" });
const workPayload = z.looseObject({ inputs: z.looseObject({ task: decimal, attempt: decimal, key: attemptKey }) });
const reviewPayload = z.looseObject({ inputs: z.looseObject({ task: decimal, review: reviewKey, attempt: unset("it reviews the task's last attempt"), key: unset("the review input is its key") }) });

/**
 * With a `task` input the run is the worker for that claimed attempt (`attempt`, `key`), or with a
 * `review` input (the review claim's key) the reviewer of that claimed review; without a task, a
 * manual tick (as the workflow's jobs split on `inputs.task` alone).
 */
function fromDispatch(event: GitHubEvent): EventReading {
  const given = parse(event, dispatchPayload).inputs;
  const task = given?.task;
  if (task === undefined || task === "") return { trigger: { kind: "tick" } };
  if (given?.review !== undefined && given.review !== "") {
    const { inputs } = parse(event, reviewPayload);
    return { trigger: { kind: "work", review: true, taskId: Number(inputs.task), key: inputs.review } };
  }
  const { inputs } = parse(event, workPayload);
  return { trigger: { kind: "work", taskId: Number(inputs.task), attempt: Number(inputs.attempt), key: inputs.key } };
}

function decimalProblem(s: string): string | undefined {
  if (s === "") return "is empty";
  if (/^[+-]/.test(s)) return "has a sign";
  if (!/^[0-9]+$/.test(s)) return "is not made of decimal digits";
  if (/^0+$/.test(s)) return "is zero";
  if (s.startsWith("0")) return "has a leading zero";
  if (!Number.isSafeInteger(Number(s))) return "is too large";
  return undefined;
}

function parse<T>(event: GitHubEvent, schema: z.ZodType<T>, action?: string): T {
  // The fallback text stands in for zod's own message wherever a schema sets none.
  const result = schema.safeParse(event.payload, { error: () => "a value of another type" });
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => ({
    path: pathOf(i.path),
    problem: i.code === "custom" ? i.message : `should be ${i.message}, found ${describe(valueAt(event.payload, i.path))}`,
  }));
  const listed = problems.slice(0, 3).map((p) => `${p.path} ${p.problem}`).join("; ");
  const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : "";
  const what = action === undefined ? event.name : `${event.name} ${action}`;
  return fail(`The ${what} event's payload is not what GitHub sends: ${listed}${more}`, {
    event: event.name,
    ...(action === undefined ? {} : { action }),
    ...deliveryOf(event),
    problems,
  });
}

function fail(message: string, details: Record<string, unknown>): never {
  throw new RouterError("E_EVENT_INVALID", message, details);
}

function userOf(u: { login: string; id: number; type: string }): GitHubUser {
  return { login: u.login, id: u.id, type: u.type };
}

function deliveryOf(event: GitHubEvent): { deliveryId?: string } {
  return event.deliveryId ? { deliveryId: event.deliveryId } : {};
}

/** Names from outside (event name, action) are repeated only when they look like GitHub's. */
function nameOf(name: string): string {
  return /^[a-z][a-z0-9_]{0,63}$/.test(name) ? `"${name}"` : "(an unrecognised name)";
}

function pathOf(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "payload";
  return path.map((k, n) => (typeof k === "number" ? `[${k}]` : `${n === 0 ? "" : "."}${String(k)}`)).join("");
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const k of path) {
    if (typeof v !== "object" || v === null || !Object.hasOwn(v, k)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** The type of what was found, never its text. */
function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  switch (typeof v) {
    case "string":
      return v === "" ? "an empty string" : "a string";
    case "number":
      if (!Number.isInteger(v)) return Number.isFinite(v) ? "a fraction" : "a non-finite number";
      return v < 1 ? "an integer below 1" : Number.isSafeInteger(v) ? "an integer" : "an integer beyond 2^53";
    case "object":
      return "an object";
    default:
      return `a ${typeof v}`;
  }
}
