// Comment commands (security target S2, test method T10): the grammar, and where in a comment a
// command counts. Generated cases live in parse-command.fuzz.test.ts.
import { describe, expect, it } from "vitest";
import type { AgentCommand } from "../../../../src/core/commands/parse-command.ts";
import { COMMAND_USAGE, commandUsage, MAX_COMMENT_CHARS, parseComment } from "../../../../src/core/commands/parse-command.ts";
import { isRouterError } from "../../../../src/core/errors.ts";

const command = (c: AgentCommand, line = 1, extra = 0) => ({ kind: "command", command: c, line, extra });
const invalid = (problem: string, line = 1, prefix = "/agent") => ({ kind: "invalid", line, problem, usage: commandUsage(prefix) });
const NONE = { kind: "none" };

describe("parseComment: verbs and arguments", () => {
  it.each<[string, AgentCommand]>([
    ["/agent retry", { verb: "retry" }],
    ["/agent retry codex", { verb: "retry", agent: "codex" }],
    ["/agent approve", { verb: "approve" }],
    ["/agent reject", { verb: "reject" }],
    ["/agent reject   too risky: see #12, and <b>this</b>   ", { verb: "reject", reason: "too risky: see #12, and <b>this</b>" }],
    ["/agent cancel", { verb: "cancel" }],
    ["/agent route claude", { verb: "route", agent: "claude" }],
    ["/agent route my-agent_2 docs-v2", { verb: "route", agent: "my-agent_2", profile: "docs-v2" }],
    ["/agent status", { verb: "status" }],
    ["/agent help", { verb: "help" }],
    ["/agent\tretry\t \topencode\t", { verb: "retry", agent: "opencode" }],
    ["   /agent approve   ", { verb: "approve" }],
    [`/agent retry 0${"a".repeat(63)}`, { verb: "retry", agent: `0${"a".repeat(63)}` }],
  ])("%j", (body, expected) => {
    expect(parseComment(body)).toEqual(command(expected));
  });

  it.each<[string, AgentCommand]>([
    ["/agent RETRY", { verb: "retry" }],
    ["/agent Approve", { verb: "approve" }],
    ["/agent rEjEcT Not Now", { verb: "reject", reason: "Not Now" }],
    ["/agent ROUTE codex bugfix", { verb: "route", agent: "codex", profile: "bugfix" }],
    ["/agent hElP", { verb: "help" }],
  ])("verbs ignore ASCII case, arguments keep theirs: %j", (body, expected) => {
    expect(parseComment(body)).toEqual(command(expected));
  });

  it("caps a reason at 500 characters (code points), trimmed", () => {
    expect(parseComment(`/agent reject ${"x".repeat(600)}`)).toEqual(command({ verb: "reject", reason: "x".repeat(500) }));
    expect(parseComment(`/agent reject ${"x".repeat(499)}     y`)).toEqual(command({ verb: "reject", reason: "x".repeat(499) }));
    const parsed = parseComment(`/agent reject ${"🙂".repeat(600)}`);
    expect(parsed.kind === "command" && parsed.command.verb === "reject" && parsed.command.reason).toBe("🙂".repeat(500));
  });

  it.each<[string, string]>([
    ["/agent", 'missing command after "/agent"'],
    ["/agent \t ", 'missing command after "/agent"'],
    ["/agent retyr", 'unknown command "retyr"'],
    ["/agent rétry", 'unknown command "rétry"'],
    ["/agent retry\u00a0codex", 'unknown command "retry\u00a0codex"'],
    [`/agent ${"z".repeat(100)}`, `unknown command "${"z".repeat(40)}…"`],
    ["/agent Retry CODEX!", 'invalid agent name "CODEX!" (lower-case letters, digits, "-" and "_")'],
    ["/agent retry Codex", 'invalid agent name "Codex" (lower-case letters, digits, "-" and "_")'],
    ["/agent retry -codex", 'invalid agent name "-codex" (lower-case letters, digits, "-" and "_")'],
    ["/agent retry cödex", 'invalid agent name "cödex" (lower-case letters, digits, "-" and "_")'],
    [`/agent retry ${"a".repeat(65)}`, `invalid agent name "${"a".repeat(40)}…" (lower-case letters, digits, "-" and "_")`],
    ["/agent retry codex now", 'too many arguments for "retry": "now"'],
    ["/agent approve now please", '"approve" takes no arguments, got "now please"'],
    ["/agent cancel it", '"cancel" takes no arguments, got "it"'],
    ["/agent STATUS x", '"status" takes no arguments, got "x"'],
    ["/agent help me", '"help" takes no arguments, got "me"'],
    ["/agent route", '"route" needs an agent name'],
    ["/agent route Claude", 'invalid agent name "Claude" (lower-case letters, digits, "-" and "_")'],
    ["/agent route claude Bug.fix", 'invalid profile name "Bug.fix" (lower-case letters, digits, "-" and "_")'],
    ["/agent route claude bugfix now", 'too many arguments for "route": "now"'],
  ])("%j is invalid: %s", (body, problem) => {
    expect(parseComment(body)).toEqual(invalid(problem));
  });
});

describe("parseComment: the prefix and the lines", () => {
  it("uses the configured prefix exactly, followed by a space, a tab or the end of the line", () => {
    expect(parseComment("/bot retry", "/bot")).toEqual(command({ verb: "retry" }));
    expect(parseComment("/bot", "/bot")).toEqual(invalid('missing command after "/bot"', 1, "/bot"));
    expect(parseComment("/agent retry", "/bot")).toEqual(NONE);
    expect(parseComment("/bot retry")).toEqual(NONE);
    for (const body of ["/agents retry", "/agentretry", "/agent-retry", "/agent/retry", "/Agent retry", "/AGENT retry", "//agent retry", "/ agent retry", "agent retry"]) {
      expect(parseComment(body), body).toEqual(NONE);
    }
  });

  it("refuses a prefix that is not a slash and a word", () => {
    for (const prefix of ["", "/", "agent", "/a b", ">agent"]) {
      let thrown: unknown;
      try {
        parseComment("/agent retry", prefix);
      } catch (err) {
        thrown = err;
      }
      expect(isRouterError(thrown, "E_CONFIG_INVALID"), prefix).toBe(true);
    }
  });

  it("reads CRLF and lone CR as line ends, and reports the 1-based line", () => {
    expect(parseComment("thanks!\r\n\r\n/agent retry codex\r\n")).toEqual(command({ verb: "retry", agent: "codex" }, 3));
    expect(parseComment("thanks!\r/agent route claude bugfix\rmore")).toEqual(command({ verb: "route", agent: "claude", profile: "bugfix" }, 2));
    expect(parseComment("a\nb\r\nc\n/agent approve")).toEqual(command({ verb: "approve" }, 4));
  });

  it("lets the first command-looking line decide and counts the ignored ones after a command", () => {
    expect(parseComment("/agent approve\nok\n/agent cancel\n/agent bogus")).toEqual(command({ verb: "approve" }, 1, 2));
    expect(parseComment("hi\n/agent bogus\n/agent approve")).toEqual(invalid('unknown command "bogus"', 2));
    expect(parseComment("hi\n/agent\n/agent approve")).toEqual(invalid('missing command after "/agent"', 2));
  });

  it("reads only the first 65,536 characters, and never a line the cap cut short", () => {
    const filler = `${"x".repeat(MAX_COMMENT_CHARS - 1)}\n`;
    expect(parseComment(`${filler}/agent approve`)).toEqual(NONE);
    expect(parseComment(`/agent approve\n${filler}/agent cancel`)).toEqual(command({ verb: "approve" }));
    const head = "y".repeat(MAX_COMMENT_CHARS - "\n/agent retry co".length);
    expect(parseComment(`${head}\n/agent retry codex`)).toEqual(NONE);
    expect(parseComment(`${head}\n/agent retry co\nmore`)).toEqual(command({ verb: "retry", agent: "co" }, 2));
  });

  it("is told apart from chatter, and the usage text is not a command itself", () => {
    expect(parseComment("")).toEqual(NONE);
    expect(parseComment("LGTM, please retry with /agent retry")).toEqual(NONE);
    expect(parseComment(COMMAND_USAGE)).toEqual(NONE);
    expect(parseComment(commandUsage("/bot"), "/bot")).toEqual(NONE);
    for (const verb of ["retry [agent]", "approve", "reject [reason…]", "cancel", "route <agent> [profile]", "status", "help"]) {
      expect(COMMAND_USAGE).toContain(`\`/agent ${verb}\``);
      expect(commandUsage("/bot")).toContain(`\`/bot ${verb}\``);
    }
  });
});

describe("parseComment: where a command does not count", () => {
  it.each(["> /agent retry", "   > /agent retry", ">/agent retry", "> > /agent retry", "text\n> /agent approve"])("in a blockquote: %j", (body) => {
    expect(parseComment(body)).toEqual(NONE);
  });

  it.each([
    "```\n/agent retry\n```",
    "~~~\n/agent retry\n~~~",
    "   ```js\n/agent retry\n   ```",
    "````\n```\n/agent retry\n````",
    "~~~~~\n~~~~\n/agent retry\n~~~~~~",
    "~~~\n```\n/agent retry\n~~~",
    "```\n``` not a closer\n/agent retry\n```",
    "```\n    ```\n/agent retry\n```",
    "```\n\t```\n/agent retry\n```",
    "```\n/agent retry",
    "~~~ `info` may hold backticks\n/agent retry\n~~~",
    "``` a `b`\n```\n/agent retry\n```",
    "```\r\n/agent retry\r\n```",
  ])("in fenced code: %j", (body) => {
    expect(parseComment(body)).toEqual(NONE);
  });

  it("counts again once the fence is closed by the same character, at least as long, up to three spaces in", () => {
    expect(parseComment("```\ncode\n```\n/agent retry")).toEqual(command({ verb: "retry" }, 4));
    expect(parseComment("~~~~\ncode\n   ~~~~~~  \t\n/agent retry")).toEqual(command({ verb: "retry" }, 4));
    expect(parseComment("```\n/agent cancel\n```\n/agent approve\n```\n/agent cancel")).toEqual(command({ verb: "approve" }, 4));
  });

  it("does not mistake inline code or indented text for a fence", () => {
    expect(parseComment("```a`\n/agent retry")).toEqual(command({ verb: "retry" }, 2));
    expect(parseComment("``\n/agent retry")).toEqual(command({ verb: "retry" }, 2));
    expect(parseComment("    ```\n/agent retry")).toEqual(command({ verb: "retry" }, 2));
    expect(parseComment("> ```\n/agent retry")).toEqual(command({ verb: "retry" }, 2));
  });

  it.each(["    /agent retry", "\t/agent retry", "  \t/agent retry", " \t /agent retry", "        /agent retry", "text\n    /agent approve"])("in indented code: %j", (body) => {
    expect(parseComment(body)).toEqual(NONE);
  });

  it.each(["`/agent retry`", "``/agent retry``", "```/agent retry```", "see `/agent retry` above", " `/agent approve`"])("in inline code: %j", (body) => {
    expect(parseComment(body)).toEqual(NONE);
  });

  it.each([
    "<!-- /agent retry -->",
    "<!--\n/agent retry\n-->",
    "<!-- a\nb\n/agent retry\nc -->",
    "<!--\n/agent retry",
    "<!-- a --> b <!--\n/agent retry\n-->",
    "text <!-- open\n/agent retry\n-->",
    "<!--\n```\n-->\n```\n/agent retry",
    "<!--\r\n/agent retry\r\n-->",
  ])("in an HTML comment: %j", (body) => {
    expect(parseComment(body)).toEqual(NONE);
  });

  it("counts again once the HTML comment is closed", () => {
    expect(parseComment("<!-- template -->\n/agent retry")).toEqual(command({ verb: "retry" }, 2));
    expect(parseComment("<!--\nfill in\n-->\n/agent approve")).toEqual(command({ verb: "approve" }, 4));
    expect(parseComment("<!-->\n/agent approve")).toEqual(command({ verb: "approve" }, 2));
    expect(parseComment("stray --> closer\n/agent approve")).toEqual(command({ verb: "approve" }, 2));
    expect(parseComment("```\n<!--\n```\n/agent approve")).toEqual(command({ verb: "approve" }, 4));
    expect(parseComment("/agent reject no <!--\n/agent cancel\n-->")).toEqual(command({ verb: "reject", reason: "no <!--" }, 1, 0));
  });

  // Lookalikes of "/", "a", "g", "e", "n" and "t": nothing is normalised, so none is the prefix.
  const LOOKALIKES: [string, string][] = [
    ["/", "\uff0f"], ["/", "\u2215"], ["/", "\u2044"], ["/", "\u29f8"],
    ["a", "\u0430"], ["a", "\u0251"], ["a", "\uff41"], ["a", "\u{1d41a}"],
    ["g", "\u0261"], ["g", "\uff47"],
    ["e", "\u0435"], ["e", "\uff45"],
    ["n", "\u0578"], ["n", "\uff4e"],
    ["t", "\u0442"], ["t", "\u{1d42d}"],
  ];
  it.each(LOOKALIKES)("with a lookalike of %j: %j", (ascii, lookalike) => {
    const body = `/agent retry`.replace(ascii, lookalike);
    expect(body).not.toBe("/agent retry");
    expect(parseComment(body)).toEqual(NONE);
    expect(parseComment(`${body}\n/agent approve`)).toEqual(command({ verb: "approve" }, 2));
  });

  it("with the whole prefix in fullwidth or another non-ASCII slash", () => {
    for (const body of ["\uff0f\uff41\uff47\uff45\uff4e\uff54 retry", "\u2215agent retry", "\u01c0agent retry"]) expect(parseComment(body), body).toEqual(NONE);
  });

  const INVISIBLE = [
    ..."\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u00ad\u034f\u180e",
    "\u{e0000}", "\u{e0001}", "\u{e0041}", "\u{e007f}",
  ];
  it.each(INVISIBLE.map((c) => [`U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`, c]))("with %s anywhere on the line", (_name, c) => {
    const line = "/agent route claude bugfix";
    for (let at = 0; at <= line.length; at++) {
      const body = `${line.slice(0, at)}${c}${line.slice(at)}`;
      expect(parseComment(body), JSON.stringify(body)).toEqual(NONE);
    }
    expect(parseComment(`/agent reject no\n${c}`)).toEqual(command({ verb: "reject", reason: "no" }));
    expect(parseComment(`/agent ${c}bogus\n/agent approve`)).toEqual(command({ verb: "approve" }, 2));
  });
});

describe("parseComment: cost", () => {
  // 1 MB each, made of lines of about 60,000 characters so that the first ones fit in the 65,536
  // that are read. A parser quadratic in the length of a line or of the comment hangs here.
  const MB = 1 << 20;
  const line = (unit: string) => unit.repeat(Math.ceil(60_000 / unit.length));
  const fill = (text: string) => text.repeat(Math.ceil(MB / text.length));
  it.each([
    ["a reason of spaces and tabs", fill(`/agent reject ${line(" \t")}x\n`)],
    ["arguments", fill(`/agent route ${line("a ")}\n`)],
    ["command lines", fill("/agent approve\n")],
    ["fence lines", fill("```\n")],
    ["backticks", fill(`${line("`")}\n`)],
    ["comment openers", fill(`${line("<!--")}\n`)],
    ["comments", fill(`${line("<!-- -->")}\n`)],
    ["comment lines", fill("<!--\n-->\n")],
    ["spaces before a prefix", fill(`${line(" ")}/agent retry\n`)],
    ["carriage returns", fill("\r")],
    ["invisible characters", fill(`/agent retry ${line("\u200b")}\n`)],
    ["near-miss prefixes", fill(`${line("/agent\u00a0/agents /agent")}\n`)],
  ])("parses 1 MB of %s", (_name, body) => {
    expect(body.length).toBeGreaterThanOrEqual(MB);
    expect(["none", "command", "invalid"]).toContain(parseComment(body).kind);
  });
});
