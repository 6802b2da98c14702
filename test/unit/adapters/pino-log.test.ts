import { describe, expect, it } from "vitest";
import { formatPrettyLine, pinoLog, type PinoLogOptions } from "../../../src/adapters/log-pino/pino-log.ts";
import { memoryLog } from "../../fakes/memory-log.ts";

/** A logger writing into an array, and the lines it wrote. */
function capture(opts: Partial<PinoLogOptions> = {}) {
  const written: string[] = [];
  const log = pinoLog({ traceId: "trace-1", destination: { write: (line) => written.push(line) }, ...opts });
  const records = (): Record<string, unknown>[] => written.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, written, records };
}

describe("pinoLog (JSON)", () => {
  it("writes one parseable JSON line per call with level label, ISO time, msg and trace id", () => {
    const { log, written, records } = capture();
    log.info("task routed", { taskId: 7, agent: "claude" });
    log.error("agent failed");
    expect(written).toHaveLength(2);
    for (const line of written) expect(line.endsWith("\n") && line.indexOf("\n") === line.length - 1).toBe(true);
    const [first, second] = records();
    expect(first).toMatchObject({ level: "info", msg: "task routed", traceId: "trace-1", taskId: 7, agent: "claude" });
    expect(second).toMatchObject({ level: "error", msg: "agent failed", traceId: "trace-1" });
    expect(first?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Number.isNaN(Date.parse(String(first?.time)))).toBe(false);
    expect(first).not.toHaveProperty("pid");
    expect(first).not.toHaveProperty("hostname");
  });

  it("children and grandchildren keep the trace id and add their own fields", () => {
    const { log, records } = capture();
    const task = log.child({ taskId: 3 });
    const attempt = task.child({ attempt: "a1" });
    task.warn("lease expired");
    attempt.info("agent started", { pid: 42 });
    log.info("root again");
    const [t, a, r] = records();
    expect(t).toMatchObject({ traceId: "trace-1", taskId: 3, level: "warn", msg: "lease expired" });
    expect(a).toMatchObject({ traceId: "trace-1", taskId: 3, attempt: "a1", pid: 42, msg: "agent started" });
    expect(r).toMatchObject({ traceId: "trace-1", msg: "root again" });
    expect(r).not.toHaveProperty("taskId");
  });

  it("drops lines below the level: info by default, warn, and silent", () => {
    const byDefault = capture();
    byDefault.log.debug("d");
    byDefault.log.info("i");
    expect(byDefault.records().map((r) => r.msg)).toEqual(["i"]);

    const warn = capture({ level: "warn" });
    for (const level of ["debug", "info", "warn", "error"] as const) warn.log.child({ c: 1 })[level](level);
    expect(warn.records().map((r) => r.level)).toEqual(["warn", "error"]);

    const debug = capture({ level: "debug" });
    debug.log.debug("d");
    expect(debug.records().map((r) => r.level)).toEqual(["debug"]);

    const silent = capture({ level: "silent" });
    silent.log.error("e");
    expect(silent.written).toEqual([]);
  });

  it("applies redact to every line, children's included", () => {
    const { log, written, records } = capture({ redact: (text) => text.replaceAll("ghp_secret", "***") });
    log.info("token ghp_secret used", { header: "Bearer ghp_secret" });
    log.child({ token: "ghp_secret" }).warn("x");
    expect(written.join("")).not.toContain("ghp_secret");
    expect(records()[0]).toMatchObject({ msg: "token *** used", header: "Bearer ***" });
    expect(records()[1]).toMatchObject({ token: "***" });
  });

  it("keeps its own keys when fields use the same names, and serialises errors", () => {
    const { log, records } = capture();
    log.child({ traceId: "spoofed" }).info("m", { level: "fatal", msg: "other", time: 1, err: new Error("boom"), cause: new TypeError("bad") });
    const [r] = records();
    expect(r).toMatchObject({ level: "info", msg: "m", traceId: "trace-1", "field.level": "fatal", "field.msg": "other", "field.time": 1, "field.traceId": "spoofed" });
    expect(r?.err).toMatchObject({ type: "Error", message: "boom" });
    expect(r?.cause).toMatchObject({ type: "TypeError", message: "bad" });
  });

  it("prints a message with printf-like sequences as is", () => {
    const { log, records } = capture();
    log.info("50% done %s %d");
    expect(records()[0]?.msg).toBe("50% done %s %d");
  });
});

describe("pinoLog (pretty)", () => {
  it("prints HH:MM:SS level msg key=value, without the trace id", () => {
    const { log, written } = capture({ pretty: true });
    log.child({ taskId: 3 }).warn("agent timed out", { agent: "codex", minutes: 30, ok: false, title: "fix the bug", extra: { a: 1 } });
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^\d\d:\d\d:\d\d warn agent timed out taskId=3 agent=codex minutes=30 ok=false title="fix the bug" extra=\{"a":1\}\n$/);
    expect(written[0]).not.toContain("trace-1");
  });

  it("uses the local time of the line and shows an error by its type and message", () => {
    const time = "2025-03-04T05:06:07.000Z";
    const d = new Date(time);
    const hhmmss = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
    const line = formatPrettyLine(JSON.stringify({ level: "error", time, traceId: "t", msg: "a\nb", err: { type: "TypeError", message: "bad", stack: "TypeError: bad\n    at x" } }));
    expect(line).toBe(`${hhmmss} error a b err="TypeError: bad"`);
  });

  it("redacts the formatted line", () => {
    const { log, written } = capture({ pretty: true, redact: (text) => text.replace(/sk-\w+/g, "[redacted]") });
    log.info("key", { apiKey: "sk-abc123" });
    expect(written[0]).toMatch(/ info key apiKey=\[redacted\]\n$/);
  });
});

describe("memoryLog", () => {
  it("records every level with child fields merged, in one shared list", () => {
    const log = memoryLog();
    const child = log.child({ taskId: 1 }).child({ attempt: "a" });
    log.debug("d", { x: 1 });
    child.error("e", { y: 2 });
    expect(log.lines).toEqual([
      { level: "debug", msg: "d", x: 1 },
      { level: "error", msg: "e", taskId: 1, attempt: "a", y: 2 },
    ]);
  });
});
