// A Timer that never fires by itself: `every` stores the callback and the test fires it with `fire`.
import type { Timer } from "../../src/core/ports.ts";

interface Entry {
  ms: number;
  fn: () => void;
  stopped: boolean;
}

export class ManualTimer implements Timer {
  private readonly entries: Entry[] = [];

  every(ms: number, fn: () => void): { stop(): void } {
    const entry: Entry = { ms, fn, stopped: false };
    this.entries.push(entry);
    return { stop: () => void (entry.stopped = true) };
  }

  /** The interval of every callback registered so far, stopped ones included. */
  get intervals(): number[] {
    return this.entries.map((e) => e.ms);
  }

  /** Callbacks registered and not stopped. */
  get live(): number {
    return this.entries.filter((e) => !e.stopped).length;
  }

  /** Fires every live callback once, then lets the asynchronous work they started settle. */
  async fire(): Promise<void> {
    for (const e of this.entries.filter((x) => !x.stopped)) e.fn();
    await settle();
  }
}

/** Lets every pending promise chain that waits on no real timer run to its end. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
