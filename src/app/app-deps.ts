import type { MainConfig } from "../core/config/main-config.ts";
import type { TransitionContext } from "../core/ledger/events.ts";
import type { Backoff, Clock, LedgerStore } from "../core/ports.ts";
import type { MutateOptions } from "./mutate-ledger.ts";

/** Everything a command needs from the outside, built by an entrypoint. */
export interface AppDeps {
  store: LedgerStore;
  clock: Clock;
  backoff: Backoff;
  config: MainConfig;
  /** W3C traceparent of this run; goes into every history entry and the commit message. */
  traceId: string;
  /** Who is acting: `cli:<user>`, `github:<login>`, `router`. */
  actor: string;
  /** First backoff step after a ledger conflict (a local git write takes milliseconds, an API call more). */
  conflictBaseDelayMs?: number;
}

export function contextOf(deps: AppDeps): TransitionContext {
  return { now: deps.clock.now().toISOString(), traceId: deps.traceId, by: deps.actor };
}

export function mutateOptionsOf(deps: AppDeps): MutateOptions {
  return {
    backoff: deps.backoff,
    traceId: deps.traceId,
    now: deps.clock.now().toISOString(),
    archiveAfterDays: deps.config.ledger.archiveAfterDays,
    ...(deps.conflictBaseDelayMs === undefined ? {} : { baseDelayMs: deps.conflictBaseDelayMs }),
  };
}
