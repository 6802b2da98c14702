import type { Log } from "../../src/core/ports.ts";

export type MemoryLogLine = { level: string; msg: string } & Record<string, unknown>;

/** A Log that records every call (all levels) in `lines`; a child's lines carry its fields and share the array. */
export function memoryLog(): Log & { lines: MemoryLogLine[] } {
  const lines: MemoryLogLine[] = [];
  const make = (bound: Record<string, unknown>): Log => {
    const at =
      (level: string) =>
      (msg: string, fields?: Record<string, unknown>): void => {
        lines.push({ ...bound, ...fields, level, msg });
      };
    return {
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      child: (fields) => make({ ...bound, ...fields }),
    };
  };
  return Object.assign(make({}), { lines });
}
