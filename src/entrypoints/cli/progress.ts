import type { ServeEvent } from "../../app/serve.ts";
import { describeServeEvent } from "../../app/serve.ts";

export interface ProgressState {
  running: Map<number, { title: string; since: number }>;
  done: number;
  failed: number;
}

/** The one-line status a terminal shows while `serve` runs: what runs, for how long, what finished. */
export function renderStatus(state: ProgressState, now: number, width: number): string {
  const running = [...state.running.entries()].map(([id, r]) => `#${id} ${Math.floor((now - r.since) / 1000)}s`);
  const line = `⏵ running ${running.length}${running.length ? ` (${running.join(", ")})` : ""} · finished ${state.done} · failed ${state.failed}`;
  return line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line;
}

export function trackEvent(state: ProgressState, e: ServeEvent, now: number): void {
  if (e.kind === "start") state.running.set(e.id, { title: e.title, since: now });
  if (e.kind === "end" || e.kind === "error") {
    state.running.delete(e.id);
    const failed = e.kind === "error" || (e.outcome.kind === "recorded" && (e.outcome.status === "failed" || e.outcome.status === "needs_help" || e.outcome.status === "retrying"));
    if (failed) state.failed++;
    else if (e.kind === "end" && e.outcome.kind === "recorded") state.done++;
  }
}

/**
 * Progress output for `serve`: on a terminal, event lines scroll above a status line that is
 * redrawn in place; elsewhere (logs, CI), plain time-stamped lines.
 */
export function progressReporter(out: { write(text: string): void; isTTY?: boolean; columns?: number }, clock: () => number = Date.now): { event(e: ServeEvent): void; stop(): void } {
  const stamp = (): string => new Date(clock()).toISOString().slice(11, 19);
  if (!out.isTTY) return { event: (e) => out.write(`${stamp()} ${describeServeEvent(e)}\n`), stop: () => undefined };
  const state: ProgressState = { running: new Map(), done: 0, failed: 0 };
  const draw = (): void => out.write(`\r\x1b[K${renderStatus(state, clock(), out.columns ?? 80)}`);
  const timer = setInterval(draw, 500);
  timer.unref();
  return {
    event(e) {
      trackEvent(state, e, clock());
      out.write(`\r\x1b[K${stamp()} ${describeServeEvent(e)}\n`);
      draw();
    },
    stop() {
      clearInterval(timer);
      out.write("\r\x1b[K");
    },
  };
}
