import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { StringDecoder } from "node:string_decoder";

export interface SpawnRequest {
  argv: readonly [string, ...string[]];
  cwd: string;
  /** The complete environment: nothing is inherited. */
  env: Readonly<Record<string, string>>;
  /** Written to stdin, which is then closed; without it stdin is closed from the start. */
  input?: string;
  timeoutMs: number;
  /** After SIGTERM, how long the process group has before SIGKILL. */
  graceMs?: number;
  /** Bytes kept of each stream: the first and the last half of this. */
  maxCapture?: number;
  /** Every complete stdout line, as it arrives (for streaming JSON events), decoded as UTF-8 across chunks. */
  onStdoutLine?: (line: string) => void;
  /**
   * Longest stdout line given to `onStdoutLine`, in UTF-16 units (default 8 Mi): a longer one is
   * skipped, not buffered, so one line without a newline cannot grow memory without bound.
   */
  maxLineLength?: number;
  signal?: AbortSignal;
  /** Called with the group's pid as soon as it started (to record it, see process-registry.ts). */
  onSpawn?: (pid: number) => void;
  /** Called once the group that `onSpawn` saw has been killed or has finished. */
  onExit?: (pid: number) => void;
}

export interface SpawnResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  aborted: boolean;
  /** The executable could not be started, naming what was tried (`/usr/bin/x: not found`). */
  spawnError?: string;
  stdout: string;
  stderr: string;
  /** True when a stream was longer than `maxCapture` and its middle was dropped. */
  truncated: boolean;
  /** Bytes of each stream dropped from its middle; the text says so at the cut (`[… N bytes dropped …]`). */
  droppedBytes: { stdout: number; stderr: number };
  /** Stdout lines longer than `maxLineLength`, not given to `onStdoutLine`. */
  skippedLines: number;
  durationMs: number;
}

/** Keeps the head and the tail of a stream within a byte budget. */
class CappedBuffer {
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  dropped = 0;
  constructor(private readonly half: number) {}
  push(chunk: Buffer): void {
    if (this.headBytes < this.half) {
      const take = chunk.subarray(0, this.half - this.headBytes);
      this.head.push(take);
      this.headBytes += take.length;
      chunk = chunk.subarray(take.length);
    }
    if (chunk.length === 0) return;
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    while (this.tailBytes - (this.tail[0]?.length ?? 0) >= this.half && this.tail.length > 1) {
      const first = this.tail.shift()!;
      this.tailBytes -= first.length;
      this.dropped += first.length;
    }
    if (this.tailBytes > this.half) {
      const [first] = this.tail;
      const cut = this.tailBytes - this.half;
      this.tail[0] = first!.subarray(cut);
      this.tailBytes -= cut;
      this.dropped += cut;
    }
  }
  /** The kept text and the bytes dropped; a cut through a UTF-8 character drops the whole character. */
  result(): { text: string; dropped: number } {
    const head = Buffer.concat(this.head);
    const tail = Buffer.concat(this.tail);
    if (this.dropped === 0) return { text: Buffer.concat([head, tail]).toString("utf8"), dropped: 0 };
    const headEnd = completeUpTo(head);
    const tailStart = continuationBytesAt(tail);
    const dropped = this.dropped + head.length - headEnd + tailStart;
    return { text: `${head.subarray(0, headEnd).toString("utf8")}\n[… ${dropped} bytes dropped …]\n${tail.subarray(tailStart).toString("utf8")}`, dropped };
  }
}

/** The length of `buf` without a UTF-8 sequence left incomplete at its end. */
function completeUpTo(buf: Buffer): number {
  for (let back = 1; back <= Math.min(4, buf.length); back++) {
    const byte = buf[buf.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back for the lead
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? buf.length - back : buf.length;
  }
  return buf.length;
}

/** How many UTF-8 continuation bytes (the rest of a character cut off before) open `buf`, at most 3. */
function continuationBytesAt(buf: Buffer): number {
  let n = 0;
  while (n < 3 && n < buf.length && (buf[n]! & 0xc0) === 0x80) n++;
  return n;
}

/**
 * Splits decoded stdout into lines without holding more than `max` units of an unfinished one: a
 * longer line is dropped as it grows (and counted), its end skipped up to the next newline.
 */
class LineSplitter {
  private parts: string[] = [];
  private length = 0;
  private skipping = false;
  skipped = 0;
  constructor(
    private readonly max: number,
    private readonly emit: (line: string) => void,
  ) {}
  push(text: string): void {
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      this.add(text.slice(start, nl));
      if (!this.skipping) this.emit(this.parts.join("").replace(/\r$/, ""));
      this.parts = [];
      this.length = 0;
      this.skipping = false;
      start = nl + 1;
    }
    this.add(text.slice(start));
  }
  end(): void {
    if (!this.skipping && this.length > 0) this.emit(this.parts.join(""));
  }
  private add(piece: string): void {
    if (this.skipping || piece.length === 0) return;
    if (this.length + piece.length > this.max) {
      this.skipping = true;
      this.skipped++;
      this.parts = [];
      this.length = 0;
      return;
    }
    this.parts.push(piece);
    this.length += piece.length;
  }
}

/** What a failed start means, naming the path tried. */
function describeSpawnError(e: NodeJS.ErrnoException, file: string, req: SpawnRequest): string {
  if (e.code === "ENOENT") {
    // spawn says ENOENT for a missing working directory too, and execve for a missing #! interpreter.
    if (!existsSync(req.cwd)) return `${file}: not started, the working directory ${req.cwd} does not exist`;
    if (!file.includes("/")) return `${file}: not found on PATH (${req.env["PATH"] ?? "none set"})`;
    const path = resolve(req.cwd, file);
    return existsSync(path) ? `${path}: its interpreter (the #! line) was not found` : `${path}: not found`;
  }
  if (e.code === "EACCES") return `${file.includes("/") ? resolve(req.cwd, file) : file}: permission denied (is it executable?)`;
  return `${file}: could not start (${e.code ?? "error"}: ${e.message})`;
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal); // the whole process group: the agent and everything it started
  } catch {
    // already gone
  }
}

/**
 * Runs an agent CLI in its own process group: the prompt on stdin (never argv), stdin closed
 * afterwards, a timeout that sends SIGTERM and then SIGKILL to the whole group, output capped to
 * its head and tail, and stray children killed when the agent exits. Never rejects.
 *
 * Not execa, on purpose: the kill must reach everything an agent started (tools, servers,
 * sub-agents), so the child leads its own process group and every signal goes to `-pid`, while
 * execa's `timeout`, `cancelSignal` and `cleanup` signal the child alone. Output is bounded here to
 * its head and tail while the run goes on; execa's `maxBuffer` fails the run once reached and
 * `buffer: false` keeps nothing. The environment is exactly the allowlist given, where execa
 * extends `process.env` unless `extendEnv: false` is remembered at every call.
 */
export function spawnAgent(req: SpawnRequest): Promise<SpawnResult> {
  const started = performance.now();
  const half = Math.floor((req.maxCapture ?? 1024 * 1024) / 2);
  const out = new CappedBuffer(half);
  const err = new CappedBuffer(half);
  return new Promise((resolve) => {
    let timedOut = false;
    let aborted = false;
    let spawnError: string | undefined;
    let settled = false;
    const [file, ...args] = req.argv;
    const child = spawn(file, args, { cwd: req.cwd, env: { ...req.env }, stdio: [req.input === undefined ? "ignore" : "pipe", "pipe", "pipe"], detached: true });
    // Recorded before anything else can happen, so a worker killed from here on leaves a record.
    let tracked: number | undefined;
    if (child.pid !== undefined && req.onSpawn) {
      try {
        req.onSpawn(child.pid);
        tracked = child.pid;
      } catch (e) {
        // An agent that could not be recorded could outlive a crash of this worker: do not run it.
        spawnError = `could not record the agent process: ${(e as Error).message}`;
        killGroup(child.pid, "SIGKILL");
      }
    }
    // A character split between two chunks is decoded once both halves are in.
    const decoder = new StringDecoder("utf8");
    const lines = req.onStdoutLine ? new LineSplitter(req.maxLineLength ?? 8 * 1024 * 1024, req.onStdoutLine) : undefined;
    child.stdout?.on("data", (d: Buffer) => {
      out.push(d);
      lines?.push(decoder.write(d));
    });
    child.stderr?.on("data", (d: Buffer) => err.push(d));
    child.stdin?.on("error", () => undefined); // an agent that exits without reading its input
    if (req.input !== undefined) child.stdin?.end(req.input);

    let killTimer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      killGroup(child.pid, "SIGTERM");
      killTimer = setTimeout(() => killGroup(child.pid, "SIGKILL"), req.graceMs ?? 5000);
      killTimer.unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, req.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      stop();
    };
    req.signal?.addEventListener("abort", onAbort, { once: true });
    if (req.signal?.aborted) onAbort();

    const finish = (exitCode: number | null, signal: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      req.signal?.removeEventListener("abort", onAbort);
      killGroup(child.pid, "SIGKILL"); // anything the agent left running
      if (tracked !== undefined) {
        try {
          req.onExit?.(tracked);
        } catch {
          // A record left behind is harmless: its group is dead and reapOrphans drops it later.
        }
      }
      if (lines) {
        lines.push(decoder.end());
        lines.end();
      }
      const stdout = out.result();
      const stderr = err.result();
      resolve({
        exitCode,
        signal,
        timedOut,
        aborted,
        ...(spawnError ? { spawnError } : {}),
        stdout: stdout.text,
        stderr: stderr.text,
        truncated: stdout.dropped + stderr.dropped > 0,
        droppedBytes: { stdout: stdout.dropped, stderr: stderr.dropped },
        skippedLines: lines?.skipped ?? 0,
        durationMs: Math.round(performance.now() - started),
      });
    };
    child.on("error", (e: NodeJS.ErrnoException) => {
      spawnError = describeSpawnError(e, file, req);
      finish(null, null);
    });
    // Children the agent left behind may hold its stdout open; kill them once it exits so "close" comes.
    child.on("exit", () => killGroup(child.pid, "SIGKILL"));
    child.on("close", (code, signal) => finish(code, signal));
  });
}
