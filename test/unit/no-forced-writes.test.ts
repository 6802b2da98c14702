// R3: nothing may force a git write. The ledger is compare-and-swap only; blind variants exist only
// as negative controls in test/fixtures/ledger-writer.ts.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

const FORCED = /force:\s*true|["'`]--force["'`]|["'`]-f["'`]|\+refs\/|["'`]--force-with-lease/;

describe("no forced writes", () => {
  it("src/ contains no force flag, forced refspec or force option", () => {
    const root = join(import.meta.dirname, "../../src");
    const hits = files(root).flatMap((f) => readFileSync(f, "utf8").split("\n").map((line, i) => ({ f, i, line })).filter(({ line }) => FORCED.test(line)).map(({ f, i, line }) => `${f.slice(root.length + 1)}:${i + 1}: ${line.trim()}`));
    expect(hits).toEqual([]);
  });

  it("the checker can fail: it finds each forced form in a sample", () => {
    for (const line of ['git(["push", "--force"])', "rm(p, { force: true })", 'refspec = "+refs/heads/x:refs/heads/x"', 'args.push("-f")']) expect(FORCED.test(line), line).toBe(true);
  });
});
