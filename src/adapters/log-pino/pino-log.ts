import { pino, stdSerializers, stdTimeFunctions, type DestinationStream, type Logger } from "pino";
import type { Log } from "../../core/ports.ts";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

export interface PinoLogOptions {
  /** Bound at the root, so every line (children's too) carries it. */
  traceId: string;
  /** Lines below this level are dropped; `info` when not given. */
  level?: LogLevel;
  /** Receives one line per call, ending in a newline (process.stderr, or an array in tests). */
  destination: { write(line: string): void };
  /** A short human line (`HH:MM:SS level msg key=value …`) instead of JSON, for a terminal. */
  pretty?: boolean;
  /** Applied to every formatted line (without its newline) before it is written, e.g. to remove secrets. */
  redact?: (text: string) => string;
}

/** Keys the adapter writes itself; a field of the same name would shadow them when the line is parsed. */
const RESERVED = new Set(["level", "time", "msg", "traceId"]);

/**
 * Renames reserved keys (`level` → `field.level`) and serialises Error values, which JSON turns into
 * `{}`. `err` is left to pino, whose own serializer for that key does the same.
 */
function cleanFields(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields ?? {})) {
    out[RESERVED.has(key) ? `field.${key}` : key] = value instanceof Error && key !== "err" ? stdSerializers.err(value) : value;
  }
  return out;
}

function wrap(logger: Logger): Log {
  return {
    // Fields go first and the message second: pino's (obj, msg) form. With no further arguments pino
    // does not apply printf formatting, so a `%s` in a message is printed as is.
    debug: (msg, fields) => logger.debug(cleanFields(fields), msg),
    info: (msg, fields) => logger.info(cleanFields(fields), msg),
    warn: (msg, fields) => logger.warn(cleanFields(fields), msg),
    error: (msg, fields) => logger.error(cleanFields(fields), msg),
    child: (fields) => wrap(logger.child(cleanFields(fields))),
  };
}

/** A value as it reads in `key=value`: bare when it is one plain word, JSON otherwise. */
function formatValue(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=\\]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined) return String(value);
  // An error as pino serialises it: its type and message; the stack would take over the terminal.
  const err = value as { type?: unknown; message?: unknown; stack?: unknown };
  if (typeof err.message === "string" && typeof err.stack === "string") {
    return JSON.stringify(`${typeof err.type === "string" ? err.type : "Error"}: ${err.message}`);
  }
  return JSON.stringify(value);
}

function twoDigits(n: number): string {
  return String(n).padStart(2, "0");
}

/** `HH:MM:SS level msg key=value …` (local time) from one of pino's JSON lines; the trace id is left out. */
export function formatPrettyLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { time, level, msg, traceId: _traceId, ...fields } = record;
  const at = typeof time === "string" ? new Date(time) : undefined;
  const clock = at && !Number.isNaN(at.getTime()) ? `${twoDigits(at.getHours())}:${twoDigits(at.getMinutes())}:${twoDigits(at.getSeconds())}` : "--:--:--";
  // A message is ours, but keep it on one line whatever it holds.
  const text = typeof msg === "string" ? msg.replace(/[\r\n]+/g, " ") : formatValue(msg);
  return [clock, String(level), text, ...Object.entries(fields).map(([k, v]) => `${k}=${formatValue(v)}`)].join(" ");
}

/** The stream pino writes to: one JSON line per call, formatted and redacted, then handed on. */
function lineStream(opts: PinoLogOptions): DestinationStream {
  return {
    write(chunk: string): void {
      for (const raw of chunk.split("\n")) {
        if (raw === "") continue;
        const line = opts.pretty ? formatPrettyLine(raw) : raw;
        opts.destination.write(`${opts.redact ? opts.redact(line) : line}\n`);
      }
    },
  };
}

/**
 * The Log port over pino: JSON lines with `level` as a label, an ISO `time`, `msg` and the run's
 * `traceId`. Written synchronously to the given destination; no transports or worker threads, so it
 * works from the esbuild bundle.
 */
export function pinoLog(opts: PinoLogOptions): Log {
  const logger = pino(
    {
      level: opts.level ?? "info",
      base: { traceId: opts.traceId },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    lineStream(opts),
  );
  return wrap(logger);
}
