import { describe, expect, it } from "vitest";
import type { QueueJob } from "../../../src/app/repo-queue.ts";
import { RepoQueue } from "../../../src/app/repo-queue.ts";
import { memoryLog } from "../../fakes/memory-log.ts";

/** A job that records when it starts and ends, and finishes when `release()` is called. */
function gate(name: string, trace: string[], kind: QueueJob["kind"] = "event") {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  const job: QueueJob = {
    kind,
    label: name,
    run: async () => {
      trace.push(`start ${name}`);
      await done;
      trace.push(`end ${name}`);
    },
  };
  return { job, release };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("RepoQueue", () => {
  it("runs one job at a time per repository, repositories in parallel up to the limit, first come first served", async () => {
    const trace: string[] = [];
    const q = new RepoQueue({ concurrency: 2, maxPendingPerRepo: 10, log: memoryLog() });
    const a1 = gate("a1", trace);
    const a2 = gate("a2", trace);
    const b1 = gate("b1", trace);
    const c1 = gate("c1", trace);
    expect([q.push("o/a", a1.job), q.push("o/a", a2.job), q.push("o/b", b1.job), q.push("o/c", c1.job)]).toEqual(["queued", "queued", "queued", "queued"]);
    await tick();
    expect(trace).toEqual(["start a1", "start b1"]);
    expect(q.stats()).toMatchObject({ running: 2, pending: 2, repos: 3 });
    a1.release();
    await tick();
    // a2 waited behind a1 (same repository); c1 became ready first, so it goes first.
    expect(trace).toEqual(["start a1", "start b1", "end a1", "start c1"]);
    b1.release();
    await tick();
    expect(trace.at(-1)).toBe("start a2");
    c1.release();
    a2.release();
    await q.idle();
    expect(q.stats()).toEqual({ running: 0, pending: 0, repos: 0, done: 4, failed: 0 });
  });

  it("drops a tick behind pending work of the same repository (every reconcile does the tick work)", async () => {
    const trace: string[] = [];
    const q = new RepoQueue({ concurrency: 1, maxPendingPerRepo: 10, log: memoryLog() });
    const first = gate("e1", trace);
    q.push("o/a", first.job);
    await tick();
    // Nothing pending yet (e1 runs): the tick queues; a second tick and one behind an event coalesce.
    expect(q.push("o/a", gate("t1", trace, "tick").job)).toBe("queued");
    expect(q.push("o/a", gate("t2", trace, "tick").job)).toBe("coalesced");
    expect(q.push("o/a", gate("e2", trace).job)).toBe("queued");
    expect(q.stats().pending).toBe(2);
  });

  it("refuses work over the per-repository bound and after close, and survives a failing job", async () => {
    const log = memoryLog();
    const q = new RepoQueue({ concurrency: 1, maxPendingPerRepo: 2, log });
    const trace: string[] = [];
    const blocker = gate("b", trace);
    q.push("o/a", blocker.job);
    await tick();
    q.push("o/a", { kind: "event", label: "boom", run: () => Promise.reject(new Error("GitHub said no")) });
    q.push("o/a", { kind: "event", label: "ok", run: async () => void trace.push("ok ran") });
    expect(q.push("o/a", { kind: "event", label: "over", run: async () => undefined })).toBe("full");
    blocker.release();
    const closing = q.close();
    expect(q.push("o/b", { kind: "event", label: "late", run: async () => undefined })).toBe("closed");
    await closing;
    expect(trace).toContain("ok ran");
    expect(q.stats()).toMatchObject({ done: 2, failed: 1 });
    expect(log.lines.find((l) => l.level === "error")).toMatchObject({ msg: "queued work failed", repository: "o/a", job: "boom", error: "GitHub said no" });
  });
});
