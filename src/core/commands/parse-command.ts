import { RouterError } from "../errors.ts";

/** What a comment asks the router to do. Names are validated (`NAME`); whether they exist is the caller's business. */
export type AgentCommand =
  | { verb: "retry"; agent?: string }
  | { verb: "approve" }
  | { verb: "reject"; reason?: string }
  | { verb: "cancel" }
  | { verb: "route"; agent: string; profile?: string }
  | { verb: "status" }
  | { verb: "help" };

/**
 * The outcome of reading a comment. `line` is 1-based; `extra` counts the further command-looking
 * lines (valid or not) that were ignored because only the first one counts. `problem` has no final
 * full stop and `usage` is the grammar for the configured prefix, both meant for a reply.
 */
export type ParsedComment =
  | { kind: "command"; command: AgentCommand; line: number; extra: number }
  | { kind: "invalid"; line: number; problem: string; usage: string }
  | { kind: "none" };

/** Only this much of a comment is read (GitHub's own limit on a comment body). */
export const MAX_COMMENT_CHARS = 65_536;
/** A rejection reason is cut to this many characters (code points). */
export const MAX_REASON_CHARS = 500;

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/**
 * Characters that cannot be seen: controls other than tab, Unicode format characters (zero-width,
 * bidi, soft hyphen, BOM, tag characters…), the grapheme joiner, Hangul fillers, variation selectors
 * and line/paragraph separators. A line holding one is never a command: what a reader sees is not
 * what would run.
 */
const INVISIBLE = /[\0-\x08\n-\x1f\x7f-\x9f\p{Cf}\u034f\u115f\u1160\u3164\uffa0\ufe00-\ufe0f\u2028\u2029\u{e0000}-\u{e007f}\u{e0100}-\u{e01ef}]/u;
const PREFIX = /^\/\S+$/;

/** The grammar for replies and the tracking comment. No line starts with the prefix, so it is never a command itself. */
export function commandUsage(prefix = "/agent"): string {
  return [
    "Commands (one per comment, at the start of a line, outside quotes and code):",
    `- \`${prefix} retry [agent]\`: run the task again, optionally with another agent`,
    `- \`${prefix} approve\`: approve the step that waits for approval`,
    `- \`${prefix} reject [reason…]\`: reject it; the rest of the line is the reason`,
    `- \`${prefix} cancel\`: stop the task`,
    `- \`${prefix} route <agent> [profile]\`: hand the task to an agent (and profile)`,
    `- \`${prefix} status\`: show the task's state`,
    `- \`${prefix} help\`: show this list`,
    "Agent and profile names are lower-case letters, digits, `-` and `_`.",
  ].join("\n");
}

/** `commandUsage` for the default prefix. */
export const COMMAND_USAGE: string = commandUsage();

/**
 * Finds the command in an issue comment. A command is a line that starts (after at most three
 * spaces, no tab) with the exact prefix followed by a space, a tab or the end of the line, outside
 * fenced code (``` or ~~~, unclosed runs to the end) and HTML comments, holding no invisible
 * character. Quoted (`>`), indented-code and inline-code lines never start with the prefix. The
 * first such line decides: a command, or `invalid` when its verb or arguments are wrong. Only the
 * first `MAX_COMMENT_CHARS` characters are read. Linear in the length of the comment.
 *
 * Deliberately not modelled (they render as visible text in quotes, lists or code, and the
 * permission check still applies): lazy blockquote continuation, fences inside list items, code
 * spans across lines, and fences inside an unterminated inline HTML comment.
 *
 * @param prefix `github.commandPrefix`: a slash and a word, e.g. `/agent`; compared exactly (no case folding).
 */
export function parseComment(body: string, prefix = "/agent"): ParsedComment {
  if (!PREFIX.test(prefix)) throw new RouterError("E_CONFIG_INVALID", `command prefix "${prefix}" is not a slash and a word`, { prefix });
  let first: ParsedComment = { kind: "none" };
  let extra = 0;
  let fence: Fence | null = null;
  let inComment = false;
  const lines = readable(body).split(/\r\n|\r|\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    if (fence) {
      if (closesFence(line, fence)) fence = null;
      continue;
    }
    if (inComment) {
      const end = line.indexOf("-->");
      if (end >= 0) inComment = opensComment(line, end + 3);
      continue;
    }
    fence = opensFence(line);
    if (fence) continue;
    const rest = afterPrefix(line, prefix);
    if (rest !== null) {
      if (first.kind === "command") extra++;
      else {
        first = interpret(rest, n + 1, prefix);
        if (first.kind === "invalid") return first;
      }
    }
    inComment = opensComment(line, 0);
  }
  return first.kind === "command" ? { ...first, extra } : first;
}

/** The first MAX_COMMENT_CHARS characters, without a last line cut short (a cut argument could read as another command). */
function readable(body: string): string {
  if (body.length <= MAX_COMMENT_CHARS) return body;
  const head = body.slice(0, MAX_COMMENT_CHARS);
  const next = body.charAt(MAX_COMMENT_CHARS);
  if (next === "\n" || next === "\r") return head;
  return head.slice(0, Math.max(head.lastIndexOf("\n"), head.lastIndexOf("\r"), 0));
}

type Fence = { char: "`" | "~"; length: number };

/** CommonMark: up to three spaces, then 3+ backticks or tildes; a backtick fence's info string has no backtick. */
function opensFence(line: string): Fence | null {
  const at = leadingSpaces(line, 3);
  const char = line.charAt(at);
  if (char !== "`" && char !== "~") return null;
  const length = runLength(line, at, char);
  if (length < 3 || (char === "`" && line.includes("`", at + length))) return null;
  return { char, length };
}

/** CommonMark: up to three spaces, at least as many of the same character, then only spaces or tabs. */
function closesFence(line: string, fence: Fence): boolean {
  const at = leadingSpaces(line, 3);
  const length = runLength(line, at, fence.char);
  if (length < fence.length) return false;
  for (let i = at + length; i < line.length; i++) if (line[i] !== " " && line[i] !== "\t") return false;
  return true;
}

/** Whether an HTML comment opened at or after `from` is still open at the end of the line. */
function opensComment(line: string, from: number): boolean {
  let at = from;
  for (;;) {
    const open = line.indexOf("<!--", at);
    if (open < 0) return false;
    // `<!-->` and `<!--->` close at once (HTML, and CommonMark's HTML block end condition).
    const close = line.indexOf("-->", open + 2);
    if (close < 0) return true;
    at = close + 3;
  }
}

/** The text after the prefix when the line is a command line, else null. */
function afterPrefix(line: string, prefix: string): string | null {
  const at = leadingSpaces(line, 3);
  if (!line.startsWith(prefix, at)) return null;
  const next = line.charAt(at + prefix.length);
  if (next !== "" && next !== " " && next !== "\t") return null;
  if (INVISIBLE.test(line)) return null;
  return line.slice(at + prefix.length);
}

function interpret(rest: string, line: number, prefix: string): ParsedComment {
  const bad = (problem: string): ParsedComment => ({ kind: "invalid", line, problem, usage: commandUsage(prefix) });
  const ok = (command: AgentCommand): ParsedComment => ({ kind: "command", command, line, extra: 0 });
  const text = rest.replace(/^[ \t]+/, "");
  const cut = text.search(/[ \t]/);
  const word = cut < 0 ? text : text.slice(0, cut);
  const tail = cut < 0 ? "" : text.slice(cut);
  const args = tail.split(/[ \t]+/).filter((a) => a !== "");
  const verb = /^[A-Za-z]+$/.test(word) ? word.toLowerCase() : word;
  const none = (): string => `"${verb}" takes no arguments, got ${quote(args.join(" "))}`;
  const name = (kind: string, value: string | undefined): string | null =>
    value === undefined || NAME.test(value) ? null : `invalid ${kind} name ${quote(value)} (lower-case letters, digits, "-" and "_")`;
  switch (verb) {
    case "":
      return bad(`missing command after "${prefix}"`);
    case "approve":
    case "cancel":
    case "status":
    case "help":
      return args.length > 0 ? bad(none()) : ok({ verb });
    case "reject": {
      const reason = Array.from(tail.trim()).slice(0, MAX_REASON_CHARS).join("").trim();
      return ok(reason ? { verb, reason } : { verb });
    }
    case "retry": {
      const [agent, ...more] = args;
      if (more.length > 0) return bad(`too many arguments for "retry": ${quote(more.join(" "))}`);
      const problem = name("agent", agent);
      if (problem) return bad(problem);
      return ok(agent ? { verb, agent } : { verb });
    }
    case "route": {
      const [agent, profile, ...more] = args;
      if (!agent) return bad(`"route" needs an agent name`);
      if (more.length > 0) return bad(`too many arguments for "route": ${quote(more.join(" "))}`);
      const problem = name("agent", agent) ?? name("profile", profile);
      if (problem) return bad(problem);
      return ok(profile ? { verb, agent, profile } : { verb, agent });
    }
    default:
      return bad(`unknown command ${quote(word)}`);
  }
}

/** User text echoed in a problem: quoted and short. */
function quote(text: string): string {
  const chars = Array.from(text);
  return `"${chars.length > 40 ? `${chars.slice(0, 40).join("")}…` : text}"`;
}

function leadingSpaces(line: string, max: number): number {
  let i = 0;
  while (i < max && line[i] === " ") i++;
  return i;
}

function runLength(line: string, at: number, char: string): number {
  let i = at;
  while (line[i] === char) i++;
  return i - at;
}
