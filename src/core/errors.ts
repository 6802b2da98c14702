/**
 * The one error catalog. Every expected failure has a code, a message, whether retrying can help,
 * and a fix a person can act on. Adapters wrap library errors once, at the boundary.
 */
export const errorCatalog = {
  E_USAGE: { retryable: false, fix: "Run the command with --help to see its arguments." },
  E_CONFIG_INVALID: { retryable: false, fix: "Edit the file at the line shown; `agent-router validate` lists every problem." },
  E_LEDGER_INVALID: {
    retryable: false,
    fix: "Nothing was written. Fix the file by hand, or restore the last good commit of the ledger branch (see details).",
  },
  E_LEDGER_NOT_FOUND: { retryable: false, fix: "Run `agent-router init` to create the ledger branch." },
  E_LEDGER_CONFLICT: {
    retryable: true,
    fix: "Another writer kept winning the race for the ledger branch; run the command again.",
  },
  E_LEDGER_DIVERGED: {
    retryable: false,
    fix: "The local and remote ledger branches both have commits the other lacks; nothing was overwritten. See details.",
  },
  E_ILLEGAL_TRANSITION: { retryable: false, fix: "Check the task's status with `agent-router show ID`." },
  E_TASK_NOT_FOUND: { retryable: false, fix: "List tasks with `agent-router list`." },
  E_GIT: { retryable: false, fix: "Check that the directory is a git repository and git works there." },
  E_GIT_LOCKED: { retryable: true, fix: "A git lock file is held; wait for the other git process, or remove a stale lock." },
  E_GITHUB: { retryable: false, fix: "See the status and GitHub's message in the details; check the token's permissions (README: token permissions)." },
  E_GITHUB_UNAVAILABLE: { retryable: true, fix: "GitHub failed, timed out or rate-limited the request after every retry; the next run picks the work up again." },
  E_GITHUB_ACCOUNT: {
    retryable: true,
    fix: "Nothing was synced: without its own account the router cannot tell its comments from forged ones. The next run tries again; if it keeps failing, check that the token can run the GraphQL query `query { viewer { databaseId login } }` (see the cause in the details) and GitHub's status.",
  },
  E_LEDGER_BRANCH_GONE: {
    retryable: false,
    fix: "The ledger branch existed and was deleted; nothing was written. Restore it (GitHub: \"Restore branch\" on the branches page, or `git push origin SHA:refs/heads/BRANCH` from a clone that has it: the branch does not exist, so nothing is overwritten). To start an empty ledger on purpose, create the branch from the default branch the same way (`git push origin main:refs/heads/BRANCH`).",
  },
  E_EVENT_INVALID: {
    retryable: false,
    fix: "The event payload is not what GitHub sends for this event; nothing was done. Check the field named in the message (for workflow_dispatch, the inputs task, attempt and key), or the proxy or test that produced the payload.",
  },
  E_INTERNAL: { retryable: false, fix: "This is a bug in agent-router; please report it with the stack trace." },
} as const satisfies Record<string, { retryable: boolean; fix: string }>;

export type ErrorCode = keyof typeof errorCatalog;

/** A typed, expected failure. `details` is data a caller may print or record. */
export class RouterError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly fix: string;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown; fix?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "RouterError";
    this.code = code;
    this.retryable = errorCatalog[code].retryable;
    this.fix = options?.fix ?? errorCatalog[code].fix;
    this.details = details;
  }
}

export function isRouterError(err: unknown, code?: ErrorCode): err is RouterError {
  return err instanceof RouterError && (code === undefined || err.code === code);
}
