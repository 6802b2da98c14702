import { emptyLedger } from "../../core/ledger/ledger.ts";
import type { Task } from "../../core/ledger/task.ts";
import type { LedgerSnapshot, LedgerStore, LedgerWrite, WriteOutcome } from "../../core/ports.ts";
import type { DecodedLedger } from "../ledger-codec/ledger-file.ts";
import { appendArchive, decodeArchive, decodeLedger, encodeLedger } from "../ledger-codec/ledger-file.ts";

/**
 * The ledger in memory, as YAML text, with a version counter as its head. It goes through the same
 * codec and validation as the git store, so tests on it exercise the real file format.
 */
export class MemoryLedgerStore implements LedgerStore {
  readonly location = "ledger.yml (in memory)";
  private text: string | null;
  private version = 0;
  private last: { head: string; decoded: DecodedLedger } | undefined;
  readonly archives = new Map<string, string>();
  writes = 0;

  constructor(initialText?: string) {
    this.text = initialText ?? null;
  }

  private get head(): string | null {
    return this.text === null ? null : `v${this.version}`;
  }

  /** No lock: in-process tests interleave writers on purpose to exercise compare-and-swap. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  async read(): Promise<LedgerSnapshot> {
    await Promise.resolve();
    const head = this.head;
    if (this.text === null || head === null) return { ledger: emptyLedger(), head: null };
    const decoded = decodeLedger(this.text, "ledger.yml", this.location);
    this.last = { head, decoded };
    return { ledger: decoded.ledger, head };
  }

  async write(change: LedgerWrite, expectedHead: string | null): Promise<WriteOutcome> {
    await Promise.resolve();
    if (expectedHead !== this.head) return { ok: false, conflict: true, actualHead: this.head };
    const prev = this.last?.head === expectedHead ? this.last.decoded : undefined;
    const { text } = encodeLedger(change.ledger, "ledger.yml", this.location, prev);
    for (const batch of change.archive ?? []) {
      this.archives.set(batch.month, appendArchive(this.archives.get(batch.month) ?? null, batch.month, batch.tasks));
    }
    this.text = text;
    this.version += 1;
    this.writes += 1;
    return { ok: true, head: `v${this.version}` };
  }

  async readArchive(month: string): Promise<Task[]> {
    await Promise.resolve();
    const text = this.archives.get(month);
    return text === undefined ? [] : decodeArchive(text, `archive/${month}.yml`, `archive/${month}.yml (in memory)`);
  }

  /** The file as it would be committed. */
  currentText(): string | null {
    return this.text;
  }

  /** Replaces the text behind the store's back, as a person editing the file would. */
  replaceText(text: string): void {
    this.text = text;
    this.version += 1;
  }
}
