import { spawn } from "node:child_process";

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
  /** Every complete stdout line, as it arrives (for streaming JSON events); never capped. */
  onStdoutLine?: (line: string) => void;
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
  /** The executable could not be started (e.g. ENOENT). */
  spawnError?: string;
  stdout: string;
  stderr: string;
  /** True when a stream was longer than `maxCapture` and its middle was dropped. */
  truncated: boolean;
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
  text(): string {
    const head = Buffer.concat(this.head).toString("utf8");
    const tail = Buffer.concat(this.tail).toString("utf8");
    return this.dropped > 0 ? `${head}\n[… ${this.dropped} bytes dropped …]\n${tail}` : head + tail;
  }
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
    let pending = "";
    child.stdout?.on("data", (d: Buffer) => {
      out.push(d);
      if (!req.onStdoutLine) return;
      pending += d.toString("utf8");
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        req.onStdoutLine(pending.slice(0, nl).replace(/\r$/, ""));
        pending = pending.slice(nl + 1);
      }
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
      if (req.onStdoutLine && pending.length > 0) req.onStdoutLine(pending);
      resolve({ exitCode, signal, timedOut, aborted, ...(spawnError ? { spawnError } : {}), stdout: out.text(), stderr: err.text(), truncated: out.dropped + err.dropped > 0, durationMs: Math.round(performance.now() - started) });
    };
    child.on("error", (e: NodeJS.ErrnoException) => {
      spawnError = `${e.code ?? "error"}: could not start ${file} (${e.message})`;
      finish(null, null);
    });
    // Children the agent left behind may hold its stdout open; kill them once it exits so "close" comes.
    child.on("exit", () => killGroup(child.pid, "SIGKILL"));
    child.on("close", (code, signal) => finish(code, signal));
  });
}
