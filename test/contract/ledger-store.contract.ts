import { beforeEach, describe, expect, it } from "vitest";
import { isRouterError } from "../../src/core/errors.ts";
import { addTask } from "../../src/core/ledger/create-task.ts";
import type { LedgerStore } from "../../src/core/ports.ts";
import { renderYaml } from "../../src/adapters/ledger-codec/render-yaml.ts";
import { ctxAt } from "../support/ctx.ts";
import { ledgerWith, titles } from "../support/ledger-data.ts";

export interface StoreHarness {
  store: LedgerStore;
  /** Makes `text` the ledger file at a new head, as a person committing by hand would. */
  plant(text: string): Promise<void>;
  /** The ledger file's text at the head, or null. */
  rawText(): Promise<string | null>;
}

/** One behaviour for every LedgerStore: the fake and the real adapters must both pass. */
export function describeLedgerStoreContract(name: string, make: () => Promise<StoreHarness>): void {
  describe(`LedgerStore contract: ${name}`, () => {
    let h: StoreHarness;
    beforeEach(async () => {
      h = await make();
    });

    it("reads an empty ledger with no head before anything is written", async () => {
      const snap = await h.store.read();
      expect(snap.head).toBeNull();
      expect(snap.ledger).toEqual({ schemaVersion: 1, nextId: 1, tasks: [], jobs: {}, deliveries: [] });
    });

    it("writes when the expected head matches and reads back the same ledger", async () => {
      const ledger = ledgerWith(3);
      const out = await h.store.write({ ledger, message: "three tasks" }, null);
      expect(out.ok).toBe(true);
      const snap = await h.store.read();
      expect(snap.ledger).toEqual(ledger);
      expect(snap.head).toBe(out.ok ? out.head : "unreachable");
    });

    it("refuses a write whose expected head is stale and keeps the newer ledger", async () => {
      const first = await h.store.write({ ledger: ledgerWith(1), message: "one" }, null);
      if (!first.ok) throw new Error("first write failed");
      const second = await h.store.write({ ledger: ledgerWith(2), message: "two" }, first.head);
      if (!second.ok) throw new Error("second write failed");
      const stale = await h.store.write({ ledger: ledgerWith(5), message: "stale" }, first.head);
      expect(stale).toEqual({ ok: false, conflict: true, actualHead: second.head });
      expect(titles((await h.store.read()).ledger)).toEqual(["task-1", "task-2"]);
      const creating = await h.store.write({ ledger: ledgerWith(7), message: "create again" }, null);
      expect(creating.ok).toBe(false);
    });

    it("lets exactly one of two writers from the same head win", async () => {
      const base = await h.store.write({ ledger: ledgerWith(1), message: "base" }, null);
      if (!base.ok) throw new Error("base write failed");
      const outs = await Promise.all([
        h.store.write({ ledger: ledgerWith(2), message: "a" }, base.head),
        h.store.write({ ledger: ledgerWith(3), message: "b" }, base.head),
      ]);
      expect(outs.filter((o) => o.ok)).toHaveLength(1);
      expect([2, 3]).toContain((await h.store.read()).ledger.tasks.length);
    });

    it("keeps comments and key order of parts it did not change", async () => {
      const text = renderYaml(ledgerWith(2))
        .replace("nextId:", "# keep this header comment\nnextId:")
        .replace("  - id: 1\n", "  # the first task, annotated by hand\n  - id: 1\n");
      await h.plant(text);
      const snap = await h.store.read();
      const { ledger } = addTask(snap.ledger, { source: { kind: "cli" }, title: "task-3" }, ctxAt(5));
      const out = await h.store.write({ ledger, message: "add" }, snap.head);
      expect(out.ok).toBe(true);
      const after = (await h.rawText()) ?? "";
      expect(after).toContain("# keep this header comment\nnextId: 4");
      expect(after).toContain("  # the first task, annotated by hand\n  - id: 1\n");
      expect(after.indexOf("schemaVersion")).toBeLessThan(after.indexOf("nextId"));
      expect(titles((await h.store.read()).ledger)).toEqual(["task-1", "task-2", "task-3"]);
    });

    it("refuses to write an invalid ledger and leaves the stored one as it was", async () => {
      const base = await h.store.write({ ledger: ledgerWith(1), message: "base" }, null);
      if (!base.ok) throw new Error("base write failed");
      const before = await h.rawText();
      const good = ledgerWith(2);
      const bad = { ...good, tasks: [...good.tasks, { ...good.tasks[0]! }] };
      const err = await h.store.write({ ledger: bad, message: "dup" }, base.head).catch((e: unknown) => e);
      expect(isRouterError(err, "E_LEDGER_INVALID")).toBe(true);
      expect((err as Error).message).toMatch(/tasks\[2\]\.id: duplicate task id 1/);
      expect(await h.rawText()).toBe(before);
    });

    it("reports an invalid stored ledger with its path and line, and writes nothing", async () => {
      const text = renderYaml(ledgerWith(2)).replace("status: new", "status: sleeping");
      await h.plant(text);
      const err = await h.store.read().catch((e: unknown) => e);
      expect(isRouterError(err, "E_LEDGER_INVALID")).toBe(true);
      const line = text.split("\n").indexOf("    status: sleeping") + 1;
      expect((err as Error).message).toContain(`ledger.yml:${line} tasks[0].status:`);
      expect(await h.rawText()).toBe(text);
    });

    it("appends archived tasks to the month's archive file", async () => {
      const ledger = ledgerWith(3);
      const [t1, t2, t3] = ledger.tasks;
      const out = await h.store.write({ ledger: { ...ledger, tasks: [t3!] }, message: "archive", archive: [{ month: "2026-10", tasks: [t1!] }] }, null);
      if (!out.ok) throw new Error("write failed");
      await h.store.write({ ledger: { ...ledger, tasks: [] }, message: "archive more", archive: [{ month: "2026-10", tasks: [t2!] }, { month: "2026-11", tasks: [t3!] }] }, out.head);
      expect((await h.store.readArchive("2026-10")).map((t) => t.id)).toEqual([1, 2]);
      expect((await h.store.readArchive("2026-11")).map((t) => t.id)).toEqual([3]);
      expect(await h.store.readArchive("2026-09")).toEqual([]);
      expect((await h.store.read()).ledger.nextId).toBe(4);
    });
  });
}
