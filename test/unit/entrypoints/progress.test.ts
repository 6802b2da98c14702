import { describe, expect, it } from "vitest";
import type { RunOutcome } from "../../../src/core/reconcile/attempt-result.ts";
import { progressReporter, renderStatus, trackEvent, type ProgressState } from "../../../src/entrypoints/cli/progress.ts";

const T0 = Date.parse("2026-11-23T10:00:00Z");
const done = (id: number): RunOutcome => ({ taskId: id, kind: "recorded", status: "done", attempt: 1, note: "done", record: { ok: true, exitCode: 0, timedOut: false, inputTokens: 0, outputTokens: 0, deniedActions: [], filesChanged: [], finalText: "", errorText: "", durationMs: 1 } });
const failed = (id: number): RunOutcome => ({ ...done(id), status: "retrying", note: "timeout: slow" } as RunOutcome);

describe("progress display", () => {
  it("renders what runs, for how long, and what finished, within the terminal width", () => {
    const state: ProgressState = { running: new Map(), done: 0, failed: 0 };
    trackEvent(state, { kind: "start", id: 4, title: "a" }, T0);
    trackEvent(state, { kind: "start", id: 5, title: "b" }, T0 + 2000);
    trackEvent(state, { kind: "end", id: 4, outcome: done(4) }, T0 + 3000);
    trackEvent(state, { kind: "start", id: 6, title: "c" }, T0 + 3000);
    trackEvent(state, { kind: "end", id: 6, outcome: failed(6) }, T0 + 4000);
    expect(renderStatus(state, T0 + 12_500, 80)).toBe("⏵ running 1 (#5 10s) · finished 1 · failed 1");
    expect(renderStatus(state, T0 + 12_500, 20)).toBe("⏵ running 1 (#5 10s…");
  });

  it("on a terminal, events scroll above a status line redrawn in place; elsewhere, plain stamped lines", () => {
    const tty: string[] = [];
    const r = progressReporter({ write: (t) => tty.push(t), isTTY: true, columns: 80 }, () => T0);
    r.event({ kind: "start", id: 1, title: "Fix it" });
    r.stop();
    expect(tty.join("")).toBe("\r\x1b[K10:00:00 #1 starting: Fix it\n\r\x1b[K⏵ running 1 (#1 0s) · finished 0 · failed 0\r\x1b[K");

    const plain: string[] = [];
    const p = progressReporter({ write: (t) => plain.push(t), isTTY: false }, () => T0);
    p.event({ kind: "routed", ids: [2, 3] });
    p.event({ kind: "end", id: 2, outcome: done(2) });
    p.stop();
    expect(plain.join("")).toBe("10:00:00 routed #2, #3\n10:00:00 #2 done (done)\n");
  });
});
