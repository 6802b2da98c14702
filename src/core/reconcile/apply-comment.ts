import { authorizeCommenter } from "../commands/authorize.ts";
import type { AgentCommand } from "../commands/parse-command.ts";
import { commandUsage, parseComment } from "../commands/parse-command.ts";
import { isAgentEnabled } from "../routing/decide-route.ts";
import { approvedForPr } from "../ledger/approval.ts";
import type { Effect } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { Route, Task } from "../ledger/task.ts";
import { isTerminal } from "../ledger/task.ts";
import { IllegalTransition } from "../ledger/transition.ts";
import { parseMarker } from "../sync/markers.ts";
import type { Draft } from "./draft.ts";
import type { ReconcileInput, TriggerOutcome } from "./reconcile-types.ts";
import type { CommentEvent } from "./trigger.ts";

/** The longest answer kept from a person's reply to a question (the rest is cut with a note). */
export const MAX_ANSWER_CHARS = 4_000;

/** The router's own comments start with its marker; they are never commands or answers. */
const isRouterComment = (body: string): boolean => parseMarker(body) !== null;

/** The task an issue's comments steer: its live task, else its newest. */
export function taskForIssue(ledger: Ledger, issue: number): Task | undefined {
  const mine = ledger.tasks.filter((t) => (t.source.kind === "issue" && t.source.issue === issue) || t.github?.issue === issue);
  return mine.find((t) => !isTerminal(t.status)) ?? mine.at(-1);
}

/**
 * Whether a comment could do anything (a command, or an answer to a task that asked for help), so
 * that the app asks GitHub for the commenter's permission only then. Pure, from the same rules as
 * `applyComment`.
 */
export function commentWantsPermission(ledger: Ledger, t: CommentEvent, prefix: string): boolean {
  if (isRouterComment(t.comment.body)) return false;
  if (parseComment(t.comment.body, prefix).kind !== "none") return true;
  return taskForIssue(ledger, t.issue)?.status === "needs_help";
}

/**
 * A comment: a command, a person's answer to a task that needs help, or nothing. Only an
 * authorised person (see `authorizeCommenter`) changes anything; every command gets a reaction or a
 * reply saying what happened or why not.
 */
export function applyComment(d: Draft, input: ReconcileInput, t: CommentEvent): TriggerOutcome {
  const { comment } = t;
  if (isRouterComment(comment.body)) return { kind: "ignored", why: "the router's own comment" };
  const parsed = parseComment(comment.body, input.config.github.commandPrefix);
  const task = taskForIssue(d.ledger, t.issue);
  const answering = parsed.kind === "none" && task?.status === "needs_help";
  if (parsed.kind === "none" && !answering) return { kind: "ignored", why: "not a command" };

  const react = (content: Extract<Effect, { kind: "react" }>["content"]): void => {
    d.effects.push({ kind: "react", class: "github", ...(task ? { taskId: task.id } : {}), issue: t.issue, commentId: comment.id, content });
  };
  const reply = (text: string): void => {
    d.effects.push({ kind: "reply", class: "github", ...(task ? { taskId: task.id } : {}), issue: t.issue, commentId: comment.id, text });
  };
  const auth = authorizeCommenter(comment.author, input.commenter, input.config);
  if (!auth.ok) {
    if (auth.reaction) react(auth.reaction);
    return { kind: "refused", why: auth.why };
  }
  if (parsed.kind === "invalid") {
    reply(`${parsed.problem}.\n\n${parsed.usage}`);
    return { kind: "refused", why: parsed.problem };
  }
  const by = `github:${comment.author.login}`;
  if (answering) {
    const text = comment.body.length > MAX_ANSWER_CHARS ? `${comment.body.slice(0, MAX_ANSWER_CHARS)}\n[… answer cut at ${MAX_ANSWER_CHARS} characters]` : comment.body;
    const moved = d.move(task.id, { type: "answer", text }, `task ${task.id} answered by ${comment.author.login}`, by);
    react("+1");
    return moved;
  }
  const command = (parsed as Extract<typeof parsed, { kind: "command" }>).command;
  if (command.verb === "help") {
    reply(commandUsage(input.config.github.commandPrefix));
    return { kind: "none" };
  }
  if (!task) {
    reply(`There is no agent-router task for #${t.issue}. Add the \`${input.config.github.triggerLabel}\` label to make one.`);
    return { kind: "refused", why: `no task for issue #${t.issue}` };
  }
  if (command.verb === "status") {
    reply(statusLine(task));
    return { kind: "none" };
  }
  const refused = refusal(task, command, comment.author, input);
  if (refused) {
    reply(refused);
    return { kind: "refused", why: refused };
  }
  try {
    const moved = d.move(task.id, eventFor(task, command, comment.author.login, input), `task ${task.id}: /${command.verb} by ${comment.author.login}`, by);
    react("+1");
    return moved;
  } catch (err) {
    if (!(err instanceof IllegalTransition)) throw err;
    const why = `Task ${task.id} is ${task.status}, so \`${command.verb}\` does not apply. ${statusLine(task)}`;
    reply(why);
    return { kind: "refused", why };
  }
}

/** Why a well-formed command cannot be obeyed (before the state machine is asked), or null. */
function refusal(task: Task, c: AgentCommand, author: CommentEvent["comment"]["author"], input: ReconcileInput): string | null {
  const { config } = input;
  const agent = c.verb === "retry" || c.verb === "route" ? c.agent : undefined;
  if (agent !== undefined && !isAgentEnabled(config, agent)) return `Agent \`${agent}\` is not enabled in this repository's configuration.`;
  if (c.verb === "route" && c.profile !== undefined && !input.profiles.has(c.profile)) return `Profile \`${c.profile}\` does not exist.`;
  if (c.verb === "approve") {
    const requester = task.github?.requester;
    if (!config.approvals.allowSelf && requester && requester.id === author.id) {
      return `${author.login} asked for this task, and approvals.allowSelf is false: another maintainer must approve it.`;
    }
    if (task.status === "done") {
      const profile = input.profiles.get(task.route?.profile ?? "");
      if (profile?.approval !== "before_pr") return `Task ${task.id} is done and holds no pull request for approval.`;
      if (approvedForPr(task, input.ctx.now, config.approvals.expireDays)) return `Task ${task.id}'s pull request is already approved.`;
    }
  }
  return null;
}

function eventFor(task: Task, c: Exclude<AgentCommand, { verb: "help" | "status" }>, login: string, input: ReconcileInput): Parameters<Draft["move"]>[1] {
  switch (c.verb) {
    case "retry":
      return { type: "retry", ...(c.agent ? { agent: c.agent } : {}) };
    case "approve":
      return { type: "approve" };
    case "reject":
      return { type: "reject", reason: c.reason ? `rejected by ${login}: ${c.reason}` : `rejected by ${login}` };
    case "cancel":
      return { type: "cancel", reason: `cancelled by ${login}` };
    case "route":
      return { type: "route", route: commandRoute(task, c.agent, c.profile, login, input) };
  }
}

/** The route a person chose: their agent (and profile, else the current or the fallback one). */
function commandRoute(task: Task, agent: string, profile: string | undefined, login: string, input: ReconcileInput): Route {
  const complexity = task.route?.complexity ?? "medium";
  const model = input.config.agents[agent]?.models?.[complexity];
  return {
    agent,
    ...(model ? { model } : {}),
    profile: profile ?? task.route?.profile ?? input.config.router.fallback.profile,
    complexity,
    reason: `routed by ${login} with a command`,
    decidedBy: "override",
  };
}

function statusLine(task: Task): string {
  const last = task.attempts.at(-1);
  const attempt = last ? `, attempt ${last.n} on ${last.agent}${last.outcome ? ` (${last.outcome})` : ""}` : "";
  const route = task.route ? `, routed to ${task.route.agent}/${task.route.profile}` : "";
  return `Task ${task.id} is **${task.status}**${route}${attempt}.`;
}
