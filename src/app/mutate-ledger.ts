import { RouterError } from "../core/errors.ts";
import type { Ledger } from "../core/ledger/ledger.ts";
import type { Backoff, LedgerStore, LedgerSnapshot, WriteOutcome } from "../core/ports.ts";
import { planArchive } from "../core/scheduling/plan-archive.ts";
import { retryDelayMs } from "../core/scheduling/retry-delay.ts";

export interface Mutation<T> {
  ledger: Ledger;
  result: T;
  /** One line for the commit message; empty means "nothing changed, do not commit". */
  summary: string;
}

export interface MutateOptions {
  backoff: Backoff;
  traceId: string;
  /** ISO time of this run, for archiving. */
  now: string;
  /** Terminal tasks older than this many days move to the archive; undefined disables archiving. */
  archiveAfterDays?: number;
  /** Total tries before E_LEDGER_CONFLICT. */
  maxTries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /**
   * A snapshot the caller just read, used for the first try instead of reading again (an idle
   * reconcile then reads the ledger once: one API request in GitHub mode). Safe: the write is a
   * compare-and-swap on its head, so a stale snapshot only costs a retry.
   */
  first?: LedgerSnapshot;
}

export interface MutateResult<T> {
  result: T;
  head: string | null;
  tries: number;
  /** False when the function changed nothing and no commit was made. */
  written: boolean;
}

/**
 * Read, apply a pure function, validate, write with the head as precondition. On a conflict the
 * ledger is read again and the function applied again to the fresh state, with full-jitter
 * exponential backoff between tries, until `maxTries`, then E_LEDGER_CONFLICT.
 */
export async function mutateLedger<T>(store: LedgerStore, fn: (snapshot: LedgerSnapshot) => Mutation<T>, opts: MutateOptions): Promise<MutateResult<T>> {
  const maxTries = opts.maxTries ?? 10;
  const base = opts.baseDelayMs ?? 250;
  const cap = opts.maxDelayMs ?? 8_000;
  let lastHead: string | null = null;
  const once = async (tries: number): Promise<MutateResult<T> | WriteOutcome> => {
    const snapshot = tries === 1 && opts.first ? opts.first : await store.read();
    const change = fn(snapshot);
    if (change.summary === "" && change.ledger === snapshot.ledger) {
      return { result: change.result, head: snapshot.head, tries, written: false };
    }
    const plan = opts.archiveAfterDays === undefined ? { ledger: change.ledger, batches: [] } : planArchive(change.ledger, opts.now, opts.archiveAfterDays);
    const archived = plan.batches.reduce((n, b) => n + b.tasks.length, 0);
    const summary = archived > 0 ? `${change.summary}; archived ${archived} task(s)` : change.summary;
    const outcome = await store.write(
      { ledger: plan.ledger, message: `${summary}\n\nTrace: ${opts.traceId}`, ...(plan.batches.length > 0 ? { archive: plan.batches } : {}) },
      snapshot.head,
    );
    return outcome.ok ? { result: change.result, head: outcome.head, tries, written: true } : outcome;
  };
  for (let tries = 1; tries <= maxTries; tries++) {
    const outcome = await store.exclusive(() => once(tries));
    if ("result" in outcome) return outcome;
    if (!outcome.ok) lastHead = outcome.actualHead;
    if (tries < maxTries) await opts.backoff.sleep(retryDelayMs(tries, () => opts.backoff.random(), base, cap));
  }
  throw new RouterError("E_LEDGER_CONFLICT", `could not update ${store.location}: it changed under us ${maxTries} times in a row`, {
    tries: maxTries,
    lastHead,
  });
}
