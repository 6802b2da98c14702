// The memory ledger store, counting reads and write calls, keeping each commit message, and able to
// fail writes on demand (a transient git error, or a store that is down).
import { MemoryLedgerStore } from "../../src/adapters/ledger-memory/memory-ledger-store.ts";
import type { LedgerSnapshot, LedgerWrite, WriteOutcome } from "../../src/core/ports.ts";

export class InstrumentedLedgerStore extends MemoryLedgerStore {
  /** Every read, successful or not. */
  reads = 0;
  /** Every call of `write`, including those that threw or lost the compare-and-swap. */
  writeCalls = 0;
  /** Messages of the commits that landed, in order. */
  readonly messages: string[] = [];
  /** How many of the next writes throw (Infinity: every one). */
  failWrites = 0;
  /** Called before each write (after the failure check): a test can change the ledger behind the writer's back. */
  beforeWrite: (() => void | Promise<void>) | undefined;

  override async read(): Promise<LedgerSnapshot> {
    this.reads++;
    return super.read();
  }

  override async write(change: LedgerWrite, expectedHead: string | null): Promise<WriteOutcome> {
    this.writeCalls++;
    if (this.failWrites > 0) {
      this.failWrites--;
      throw new Error("fatal: unable to write the ledger commit (transient)");
    }
    await this.beforeWrite?.();
    const out = await super.write(change, expectedHead);
    if (out.ok) this.messages.push(change.message);
    return out;
  }
}

/** A store whose writes all throw. */
export function brokenStore(): InstrumentedLedgerStore {
  const store = new InstrumentedLedgerStore();
  store.failWrites = Number.POSITIVE_INFINITY;
  return store;
}
