// The README's inputs and outputs tables for the Action name exactly what action.yml declares,
// with the same defaults, so neither can drift from the other.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = join(import.meta.dirname, "../..");
const action = parse(readFileSync(join(root, "action.yml"), "utf8")) as { inputs: Record<string, { default?: string }>; outputs: Record<string, unknown> };
const readme = readFileSync(join(root, "README.md"), "utf8");

/** The rows of the Markdown table whose header row starts with `| first |`: its cells, trimmed. */
function table(first: string): string[][] {
  const lines = readme.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  if (start < 0) throw new Error(`README has no table starting with "| ${first} |"`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
  }
  return rows;
}

const unquote = (cell: string) => cell.replace(/^`(.*)`$/, "$1");

describe("README and action.yml", () => {
  it("list the same inputs with the same defaults", () => {
    const rows = table("input");
    expect(rows.map((r) => unquote(r[0]!))).toEqual(Object.keys(action.inputs));
    expect(Object.fromEntries(rows.map((r) => [unquote(r[0]!), unquote(r[1]!)]))).toEqual(Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, v.default ?? ""])));
  });

  it("list the same outputs", () => {
    expect(table("output").map((r) => unquote(r[0]!))).toEqual(Object.keys(action.outputs));
  });
});
