/**
 * Outbound sanitising: text an agent or an LLM wrote (summaries, questions, route reasons, child
 * bodies), on its way into a GitHub comment, issue or pull request. The inbound side
 * (context/sanitize.ts) protects prompts from what people write; this side protects people and the
 * router from what agents write (security target S7):
 *
 * - HTML comments are removed, so agent text can neither hide content nor forge the router's
 *   marker (markers.ts);
 * - @mentions get a WORD JOINER (U+2060) after the `@`. It is invisible, so the page reads the
 *   same, but GitHub's mention pattern needs a login right after the `@`, so nobody is notified and
 *   no team is pinged (a mention loop once opened 73 branches). Backticks would also stop the
 *   notification but turn the name into code; a backslash is not reliable (GitHub finds mentions
 *   in the rendered text, where `\@` is already `@`). E-mail addresses (`a@b.com`: a letter or digit before the `@`) are left alone;
 * - a line that starts with `/` (after blanks, invisible characters or entities) gets a backslash
 *   before the slash. Markdown renders `\/` as `/`, so it looks the same, but no parser that wants
 *   `/agent` at the start of a line accepts it, even one that first strips invisible characters (as
 *   the inbound sanitiser does; a zero-width prefix would vanish there). Inside a code block the
 *   backslash shows: a small price for never turning agent text into a command;
 * - links to hosts outside an allow-list become `(link removed: evil[.]example)` (see
 *   `neutraliseLinks` in outbound-links.ts): a prompt-injected agent could otherwise post a phishing link, or leak
 *   data in an image URL that GitHub's image proxy fetches as soon as the page is shown;
 * - the result is capped with a visible note.
 *
 * Linear in the length of the text.
 */
import { DEFAULT_LINK_HOSTS, isHighSurrogate, neutraliseLinks } from "./outbound-links.ts";


/** GitHub's limit on a comment, issue or pull request body, in characters (UTF-16 code units here, which is never fewer). */
export const GITHUB_BODY_MAX = 65_536;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Control characters other than tab and newline (a NUL makes GitHub refuse the body). */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;
/**
 * `@` (or an entity GitHub would render as one) then a login's first character, not glued to a
 * word before it (that is an e-mail address). GitHub finds mentions in the rendered text, where
 * `&#64;` is already an `@`.
 */
const MENTION = /(?<![A-Za-z0-9_])(?:@|&#0*64;|&#x0*40;|&commat;)(?=[A-Za-z0-9])/gi;
/** Blanks and invisible characters a reader (or a sanitiser that strips them) would not see. */
const LEAD = String.raw`[^\S\n]|[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0]`;
/** An HTML entity (`&#32;`, `&nbsp;`; numeric ones may lack the `;`): a parser that decodes entities first may read it as a blank. */
const ENTITY = String.raw`&#x?[0-9a-f]{1,7};?|&[a-z0-9]{1,8};`;
/**
 * A line whose first visible character is `/` (or an entity a decoding parser reads as `/`). Any
 * such line, not only `/word`: what follows the slash may be an invisible character or an entity
 * that a lenient parser removes or decodes (`/\u200Bagent`, `/&#97;gent`).
 */
const COMMAND_LINE = new RegExp(String.raw`^((?:${LEAD}|${ENTITY})*?)(?=\/|&(?:#0*47(?![0-9]);?|#x0*2f(?![0-9a-f]);?|sol;))`, "gim");

export const WORD_JOINER = "\u2060";

/** Removes `<!-- … -->`, and an unclosed `<!--` to the end, in one scan: an opener that a removal completes (`<<!---->!--`) is seen as it is formed. */
function stripHtmlCommentsOnce(text: string): string {
  if (!text.includes("<!--")) return text;
  const out: string[] = [];
  let r = 0;
  while (r < text.length) {
    out.push(text[r++]!);
    const n = out.length;
    if (n >= 4 && out[n - 1] === "-" && out[n - 2] === "-" && out[n - 3] === "!" && out[n - 4] === "<") {
      out.length = n - 4;
      const close = text.indexOf("-->", r);
      r = close < 0 ? text.length : close + 3;
    }
  }
  return out.join("");
}

/** HTML comments removed until none is left (one scan already gets there; the loop is the guarantee). */
export function stripHtmlComments(text: string): string {
  let out = text;
  for (let next = stripHtmlCommentsOnce(out); next !== out; next = stripHtmlCommentsOnce(out)) out = next;
  return out;
}

export function neutraliseMentions(text: string): string {
  return text.replace(MENTION, `@${WORD_JOINER}`);
}

export function neutraliseCommands(text: string): string {
  return text.replace(COMMAND_LINE, "$1\\");
}

/** The note appended to a cut body. */
export function truncationNote(notShown: number): string {
  return `\n\n… (truncated: ${notShown} characters not shown)`;
}

/**
 * `body` cut to at most `max` characters (and at most `keepAtMost` of its own), with a visible note
 * saying how many were dropped. Never splits a surrogate pair. A `max` too small for the note gives
 * the cut text alone.
 */
export function capComment(body: string, max = GITHUB_BODY_MAX, keepAtMost = Infinity): string {
  if (body.length <= max) return body;
  // The note for the whole length is at least as long as any note we may write: reserve that.
  let keep = max - truncationNote(body.length).length;
  const withNote = keep >= 0;
  if (!withNote) keep = max;
  keep = Math.min(keep, keepAtMost);
  if (keep > 0 && isHighSurrogate(body.charCodeAt(keep - 1))) keep--;
  return body.slice(0, keep) + (withNote ? truncationNote(body.length - keep) : "");
}


export interface OutboundOptions {
  /** The most characters the result may have, note included. */
  maxChars: number;
  /** Hosts links may point to (`host` or `*.host`, see `neutraliseLinks`); default `DEFAULT_LINK_HOSTS`. Build one with `linkAllowList`. */
  allowedHosts?: readonly string[];
}

/** Agent- or LLM-written text made safe to post on GitHub (see the file comment). */
export function sanitizeOutbound(text: string, opts: OutboundOptions): string {
  const hosts = opts.allowedHosts ?? DEFAULT_LINK_HOSTS;
  const plain = text
    .replace(LONE_SURROGATE, "\uFFFD")
    .replace(/\r\n?|[\u2028\u2029]/g, "\n")
    .replace(CONTROL, "");
  // Links after commands: the backslash of `\/` is a slash to a browser (`\//evil.example`). Mentions last: a note never holds an `@`.
  const clean = neutraliseMentions(neutraliseLinks(neutraliseCommands(stripHtmlComments(plain)), hosts));
  const capped = capComment(clean, opts.maxChars);
  // A cut inside an allowed host can leave another host (`docs.acme.co` of `docs.acme.com`): then cut before that link.
  const recheck = capped === clean ? capped : neutraliseLinks(capped, hosts);
  if (recheck === capped) return capped;
  let first = 0;
  while (recheck[first] === capped[first]) first++;
  return capComment(clean, opts.maxChars, first);
}

/** One line of agent text (a title, a reason): whitespace runs become one space, then sanitised. */
export function sanitizeInline(text: string, maxChars: number, allowedHosts?: readonly string[]): string {
  return sanitizeOutbound(text.replace(/\s+/g, " ").trim(), { maxChars, ...(allowedHosts ? { allowedHosts } : {}) }).replace(/\s+/g, " ").trim();
}
