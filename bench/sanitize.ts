// Sanitiser time on 64 KB of hostile untrusted text: nesting that each removal uncovers again, and
// long runs that a backtracking pattern would rescan from every position. Before the linear
// rewrite, nested entities took about 8 s.
import { sanitizeUntrusted } from "../src/core/context/sanitize.ts";

const SIZE = 64 * 1024;
const fill = (unit: string): string => unit.repeat(Math.floor(SIZE / unit.length));

/** A comment's removal completes an entity, whose decoding completes a comment: a pass per level. */
function crossNested(): string {
  let text = "&#60;";
  while (text.length + 11 <= SIZE) text = `&#${text}!---->60;`;
  return text;
}

const INPUTS: [string, () => string][] = [
  ["nested entities (`&` + `#38;` × 16,383)", () => `&${"#38;".repeat(Math.floor((SIZE - 1) / 4))}`],
  ["nested comments (`<` × k, `<!---->`, `!---->` × k)", () => {
    const k = Math.floor((SIZE - 7) / 7);
    return `${"<".repeat(k)}<!---->${"!---->".repeat(k)}`;
  }],
  ["comments and entities nested in each other", crossNested],
  ["a run of `](`", () => fill("](")],
  ["a run of `eyJ`", () => fill("eyJ")],
  ["ordinary prose with markup", () => fill("Fix the *parser* in `src/a.ts` ([docs](http://x)), see <b>#12</b> &amp; thanks.\n")],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Markdown rows: input, its size, median ms of `runs` calls. */
export function sanitizeRows(runs = 7): string[] {
  return INPUTS.map(([name, make]) => {
    const text = make();
    const xs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      sanitizeUntrusted(text);
      xs.push(performance.now() - t);
    }
    const ms = median(xs);
    return `| ${name} | ${(text.length / 1024).toFixed(0)} | ${ms < 10 ? ms.toFixed(2) : ms.toFixed(0)} |`;
  });
}
