// Generated comments for the command parser (security target S2, test method T10).
//
// (a) A valid command hidden in a context that GitHub renders as a quote, code or nothing (or that
//     only looks like the prefix, or holds an invisible character), among random prose, is never a
//     command. (b) A valid command on a line of its own among the same prose, including closed
//     code blocks, comments and quotes that hold commands, is always found, with its exact verb,
//     arguments, line and count of further commands. The prose cannot open a fence or a comment or
//     start a line with the prefix, so every case has a known answer. Seeded: a failure reproduces.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AgentCommand } from "../../../../src/core/commands/parse-command.ts";
import { parseComment } from "../../../../src/core/commands/parse-command.ts";

/** Fixed so that a failure reproduces; FUZZ_SEED=n explores other cases. */
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_517);
const RUNS_PER_HIDING_CONTEXT = 1_500; // × 7 contexts
const RUNS_FOUND = 4_000;
const RUNS_ANY_TEXT = 1_000;

// ---------------------------------------------------------------------------------------------
// Commands: structured value plus its text after the prefix, in random case and spacing.
// ---------------------------------------------------------------------------------------------

type Sample = { command: AgentCommand; text: string };

const sep = fc.stringMatching(/^[ \t]{1,3}$/);
const indent = fc.stringMatching(/^ {0,3}$/);
const trailing = fc.stringMatching(/^[ \t]{0,3}$/);
const name = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,63}$/);
const anyCase = (word: string): fc.Arbitrary<string> =>
  fc.array(fc.boolean(), { minLength: word.length, maxLength: word.length }).map((up) => [...word].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(""));
const verb = (word: string): fc.Arbitrary<string> => fc.tuple(sep, anyCase(word)).map(([s, w]) => s + w);
const maybe = <T,>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });

// Prose characters: no backtick, tilde, "<" or ">" (they could open a fence, a comment or close one).
const LETTERS = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"];
const PROSE_CHARS = [...LETTERS, ..."0123456789 .,;:!?'\"()[]{}#*_-+=/\\|@$%^&", "é", "ж", "а", "中", "🙂", "\u00a0", "\u200b", "\u202e"];
const REASON_CHARS = PROSE_CHARS.filter((c) => c !== "\u200b" && c !== "\u202e");
const reason = fc.string({ unit: fc.constantFrom(...REASON_CHARS), minLength: 1, maxLength: 500 }).filter((r) => r.trim() === r);

const sample: fc.Arbitrary<Sample> = fc.oneof(
  ...(["approve", "cancel", "status", "help"] as const).map((v) => verb(v).map((text): Sample => ({ command: { verb: v }, text }))),
  fc.tuple(verb("retry"), maybe(fc.tuple(sep, name))).map(([v, a]): Sample => ({ command: a ? { verb: "retry", agent: a[1] } : { verb: "retry" }, text: v + (a ? a.join("") : "") })),
  fc.tuple(verb("reject"), maybe(fc.tuple(sep, reason))).map(([v, r]): Sample => ({ command: r ? { verb: "reject", reason: r[1] } : { verb: "reject" }, text: v + (r ? r.join("") : "") })),
  fc.tuple(verb("route"), sep, name, maybe(fc.tuple(sep, name))).map(([v, s, agent, p]): Sample => ({
    command: p ? { verb: "route", agent, profile: p[1] } : { verb: "route", agent },
    text: `${v}${s}${agent}${p ? p.join("") : ""}`,
  })),
);

const prefixArb = fc.oneof(fc.constant("/agent"), fc.constantFrom("/bot", "/ar", "/agent-router"), fc.stringMatching(/^\/[a-z]{1,8}$/));

/** A command line: indentation, prefix, the command, trailing blanks. */
const commandLine = (prefix: string): fc.Arbitrary<{ sample: Sample; line: string }> =>
  fc.tuple(indent, sample, trailing).map(([i, s, t]) => ({ sample: s, line: `${i}${prefix}${s.text}${t}` }));

// ---------------------------------------------------------------------------------------------
// Prose and closed blocks around the command. None of it is a command or leaves anything open.
// ---------------------------------------------------------------------------------------------

const proseLine = fc.oneof(
  fc.constant(""),
  fc.tuple(fc.constantFrom(...LETTERS), fc.string({ unit: fc.constantFrom(...PROSE_CHARS), maxLength: 60 })).map(([a, b]) => a + b),
);

const nearMiss = (p: string): fc.Arbitrary<string> =>
  fc.constantFrom(
    `${p}s retry`, `${p}retry`, `${p}-approve`, `${p}\u00a0approve`, `/${p} approve`, `please ${p} approve`,
    `    ${p} approve`, `\t${p} approve`, `> ${p} approve`, `\`${p} approve\``, `\`\`\`${p} approve\`\`\``,
    `see <!-- ${p} approve --> here`, `\u200b${p} approve`, `${p} approve\u200b`, `${p}\u202e approve`,
  );

const fenceOpen = fc.tuple(indent, fc.constantFrom("`", "~"), fc.integer({ min: 3, max: 6 }), fc.constantFrom("", "js", " yaml", "x~y"));

const closedFence = (p: string): fc.Arbitrary<string[]> =>
  fc.tuple(fenceOpen, fc.array(fc.oneof(proseLine, commandLine(p).map((c) => c.line)), { maxLength: 4 }), indent, fc.nat(2), trailing).map(
    ([[i, ch, n, info], body, ci, more, t]) => [`${i}${ch.repeat(n)}${ch === "`" ? info.replaceAll("~", "") : info}`, ...body, `${ci}${ch.repeat(n + more)}${t}`],
  );

const closedComment = (p: string): fc.Arbitrary<string[]> =>
  fc.tuple(fc.array(fc.oneof(proseLine, commandLine(p).map((c) => c.line)), { maxLength: 4 }), proseLine, proseLine).map(([body, a, b]) => [`${a} <!--`, ...body, `--> ${b}`]);

const quoted = (p: string): fc.Arbitrary<string[]> => fc.tuple(indent, fc.oneof(proseLine, commandLine(p).map((c) => c.line))).map(([i, l]) => [`${i}> ${l}`]);

const noise = (p: string): fc.Arbitrary<string[]> =>
  fc.array(fc.oneof({ weight: 4, arbitrary: proseLine.map((l) => [l]) }, nearMiss(p).map((l) => [l]), closedFence(p), closedComment(p), quoted(p)), { maxLength: 6 }).map((blocks) => blocks.flat());

const eol = fc.constantFrom("\n", "\r\n", "\r");

// ---------------------------------------------------------------------------------------------
// (a) Contexts that hide a command.
// ---------------------------------------------------------------------------------------------

const FULLWIDTH = 0xfee0;
const SPECIFIC: Record<string, string[]> = {
  "/": ["\u2215", "\u2044", "\u29f8", "\u2571"],
  "-": ["\u2010", "\u2011", "\u2212"],
  a: ["\u0430", "\u0251"], c: ["\u0441"], e: ["\u0435"], g: ["\u0261"], i: ["\u0456"], n: ["\u0578"], o: ["\u043e", "\u03bf"],
  p: ["\u0440"], r: ["\u0433"], s: ["\u0455"], t: ["\u0442"], x: ["\u0445"], y: ["\u0443"],
};
const lookalikes = (c: string): string[] => [
  String.fromCodePoint(c.codePointAt(0)! + FULLWIDTH),
  ...(SPECIFIC[c] ?? []),
  ...(/[a-z]/.test(c) ? [String.fromCodePoint(0x1d41a + c.charCodeAt(0) - 97), String.fromCodePoint(0x1d68a + c.charCodeAt(0) - 97)] : []),
];

const INVISIBLE = [
  ..."\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u00ad\u034f\u180e",
  "\u{e0000}", "\u{e0001}", "\u{e0020}", "\u{e0041}", "\u{e007f}",
];

/** The lines that hide a command; `open` when they leave a fence open, so nothing may follow them. */
type Hidden = { lines: string[]; open?: boolean };
type Hide = (p: string, line: string) => fc.Arbitrary<Hidden>;
const only = (lines: string[]): Hidden => ({ lines });

const HIDING: Record<string, Hide> = {
  blockquote: (_p, line) => fc.constantFrom(">", "> ", ">>", "> > ", "   > ").map((q) => only([q + line])),
  "fenced code": (p, line) =>
    fc.tuple(fenceOpen, fc.array(proseLine, { maxLength: 3 }), fc.constantFrom("short", "other", "text", "indented", "none"), fc.array(proseLine, { maxLength: 3 }), fc.oneof(fc.constant(null), fc.nat(2))).map(
      ([[i, ch, n, info], before, decoy, after, close]) => {
        const other = ch === "`" ? "~" : "`";
        const decoys = { short: [ch.repeat(n - 1)], other: [other.repeat(n + 1)], text: [`${ch.repeat(n)} ${p}`], indented: [`    ${ch.repeat(n)}`], none: [] }[decoy];
        const open = `${i}${ch.repeat(n)}${ch === "`" ? info.replaceAll("~", "") : info}`;
        const lines = [open, ...before, ...decoys, line, ...after];
        return close === null ? { lines, open: true } : only([...lines, ch.repeat(n + close)]);
      },
    ),
  "indented code": (p, line) => fc.constantFrom("    ", "\t", " \t", "  \t", "   \t", "      ", "\t\t").map((i) => only([i + line.trimStart()])),
  "inline code": (_p, line) => fc.tuple(fc.integer({ min: 1, max: 4 }), fc.constantFrom("", "see ", "run ")).map(([n, lead]) => only([`${lead}${"`".repeat(n)}${line}${"`".repeat(n)}`])),
  "HTML comment": (_p, line) =>
    fc.tuple(proseLine, fc.array(proseLine, { maxLength: 3 }), fc.constantFrom("one line", "lines", "unclosed", "after text")).map(([text, inner, shape]) => {
      if (shape === "one line") return only([`<!-- ${line} -->`]);
      if (shape === "unclosed") return only(["<!--", ...inner, line, ...inner]);
      if (shape === "after text") return only([`${text} <!-- a --> <!--`, line, "-->"]);
      return only(["<!--", ...inner, line, ...inner, `--> ${text}`]);
    }),
  lookalike: (p, line) =>
    fc.integer({ min: 0, max: p.length - 1 }).chain((at) => fc.constantFrom(...lookalikes(p[at]!)).map((c) => only([line.replace(p, p.slice(0, at) + c + p.slice(at + 1))]))),
  "invisible character": (_p, line) =>
    fc.tuple(fc.integer({ min: 0, max: line.length }), fc.constantFrom(...INVISIBLE)).map(([at, c]) => only([line.slice(0, at) + c + line.slice(at)])),
};

describe("parseComment fuzz: hidden commands are never commands", () => {
  it.each(Object.entries(HIDING))("%s", (_name, hide) => {
    const comment = prefixArb.chain((p) =>
      fc.record({ p: fc.constant(p), before: noise(p), hidden: commandLine(p).chain((c) => hide(p, c.line)), after: noise(p), eol }).map(({ p, before, hidden, after, eol }) => ({
        p,
        body: [...before, ...hidden.lines, ...(hidden.open ? [] : after)].join(eol),
      })),
    );
    fc.assert(
      fc.property(comment, ({ p, body }) => {
        expect(parseComment(body, p)).toEqual({ kind: "none" });
      }),
      { seed: SEED, numRuns: RUNS_PER_HIDING_CONTEXT },
    );
  });
});

describe("parseComment fuzz: a command on its own line is found", () => {
  it("with its verb, arguments, line and the number of further commands", () => {
    const comment = prefixArb.chain((p) =>
      fc.record({
        p: fc.constant(p),
        before: noise(p),
        command: commandLine(p),
        after: fc.array(fc.oneof(noise(p).map((lines) => ({ lines, commands: 0 })), commandLine(p).map((c) => ({ lines: [c.line], commands: 1 }))), { maxLength: 4 }),
        eol,
      }),
    );
    fc.assert(
      fc.property(comment, ({ p, before, command, after, eol }) => {
        const body = [...before, command.line, ...after.flatMap((a) => a.lines)].join(eol);
        const extra = after.reduce((n, a) => n + a.commands, 0);
        expect(parseComment(body, p)).toEqual({ kind: "command", command: command.sample.command, line: before.length + 1, extra });
      }),
      { seed: SEED + 1, numRuns: RUNS_FOUND },
    );
  });
});

describe("parseComment fuzz: any text", () => {
  it("never throws, and reports a line inside the comment", () => {
    const chars = fc.constantFrom(..."/agent retry approve \t\r\n`~<!-->", ...INVISIBLE, "\uff0f", "\u0430", "é", "🙂");
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 200 }), (body) => {
        const parsed = parseComment(body);
        if (parsed.kind !== "none") expect(parsed.line).toBeLessThanOrEqual(body.split(/\r\n|\r|\n/).length);
      }),
      { seed: SEED + 2, numRuns: RUNS_ANY_TEXT },
    );
  });
});
