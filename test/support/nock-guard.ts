// Shared by the nock-based adapter tests: no real network, and every mocked request used.
import nock from "nock";
import { afterAll, afterEach, beforeAll, expect } from "vitest";

/** Disables the network for the file, and fails a test that left a mocked request unused. */
export function guardNock(): void {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });
  afterAll(() => nock.enableNetConnect());
}

/** What a promise rejected with; fails when it resolves. */
export async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}
