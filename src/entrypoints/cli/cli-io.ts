/** What the CLI reads and writes; passed in so tests can drive it without a process. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  cwd: string;
  /** Raw standard output, for the progress display (a terminal gets a live status line). */
  stdout?: { write(text: string): void; isTTY?: boolean; columns?: number };
  /** Raw standard error, for log lines; `isTTY` makes them human-readable. */
  stderr?: { write(text: string): void; isTTY?: boolean };
  /** The environment, for API keys and base URLs; read nowhere else. */
  env: Readonly<Record<string, string | undefined>>;
}
