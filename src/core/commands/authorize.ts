import type { MainConfig } from "../config/main-config.ts";
import type { GitHubPermission } from "../github-port.ts";
import type { GitHubUser } from "../reconcile/trigger.ts";

/** What the app learnt about a commenter before planning: their permission, or why it could not be checked. */
export type CommenterCheck = { permission: GitHubPermission } | { error: string };

/** Refusals carry the reaction that tells the commenter (none for bots: nothing to talk to, no loop to feed). */
export type Authorization = { ok: true } | { ok: false; why: string; reaction: "-1" | "confused" | null };

/**
 * Who may steer a task from a comment: a person (a `User` account; a bot only when its numeric id is
 * allow-listed) with write access or above, as the collaborator permission API says. Fail closed:
 * no check, an error or a timeout is a refusal. `author_association` is never consulted.
 */
export function authorizeCommenter(user: GitHubUser, check: CommenterCheck | undefined, config: MainConfig, doing: "command" | "start a task" | "change a task" = "command"): Authorization {
  if (user.type !== "User" && !config.github.allowedBots.includes(user.id)) {
    return { ok: false, why: `${user.login} is a ${user.type} account; only people, or bots whose id is in github.allowedBots, may ${doing}`, reaction: null };
  }
  if (check === undefined) return { ok: false, why: `${user.login}'s permission was not checked; nothing was done`, reaction: "confused" };
  if ("error" in check) return { ok: false, why: `${user.login}'s permission could not be checked (${check.error}); nothing was done`, reaction: "confused" };
  if (check.permission !== "admin" && check.permission !== "write") {
    return { ok: false, why: `${user.login} has ${check.permission} access; ${{ command: "commands need", "start a task": "starting a task needs", "change a task": "changing a task needs" }[doing]} write access or above`, reaction: "-1" };
  }
  return { ok: true };
}
