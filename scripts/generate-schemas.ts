// Writes JSON Schemas generated from the zod schemas into schemas/. With --check, fails when a file
// on disk differs from what the code generates (CI runs this so the schemas never go stale).
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import * as z from "zod";
import { Ledger } from "../src/core/ledger/ledger.ts";

const targets: { file: string; schema: z.ZodType; title: string }[] = [
  { file: "schemas/ledger.v1.json", schema: Ledger, title: "agent-router ledger (schemaVersion 1)" },
];

const check = process.argv.includes("--check");
let stale = 0;
for (const { file, schema, title } of targets) {
  const json = { title, ...z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) };
  const text = `${JSON.stringify(json, null, 2)}\n`;
  const current = existsSync(file) ? readFileSync(file, "utf8") : "";
  if (current === text) continue;
  if (check) {
    console.error(`${file} is stale: run \`npm run schemas\` and commit the result`);
    stale += 1;
  } else {
    writeFileSync(file, text);
    console.log(`wrote ${file}`);
  }
}
if (stale > 0) process.exit(1);
