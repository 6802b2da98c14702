/**
 * Inbound sanitising of text that people outside the maintainers can write (titles, bodies,
 * comments). It removes what a reader of the rendered page cannot see but a model can: HTML
 * comments, zero-width, bidi and tag characters, soft hyphens, ANSI escapes, hidden HTML attributes,
 * image alt text and link titles. Numeric HTML entities are decoded first, so `&#x200B;` cannot
 * smuggle a character past the filter. Secrets that look like tokens are redacted.
 *
 * Linear in the length of the text: nesting (`&#38;#38;…`, `<<!---->!---->`) is undone in one
 * scan, no pattern rescans a run from each of its positions, and the repeat-until-stable loop is
 * capped (see `sanitizeUntrusted`). The benchmark measures 64 KB of nested input.
 */

import { redactTokens } from "../secrets/redact.ts";

/** Zero-width (U+200B–U+200D, U+2060, U+FEFF), soft hyphen, bidi controls, tag characters, other invisible format characters. */
const INVISIBLE = /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB]|\u{E0000}|[\u{E0001}-\u{E007F}]|[\u{E0100}-\u{E01EF}]/gu;
/** ANSI CSI and OSC sequences, then any other C0/C1 control character except tab and newline. */
const ANSI = /\u001B\[[0-?]*[ -/]*[@-~]|\u001B\][^\u0007\u001B]*(?:\u0007|\u001B\\)?|\u009B[0-?]*[ -/]*[@-~]|\u001B[@-Z\\-_]?/g;
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
/** An attribute people do not see on the page, after whitespace or a slash (`<img/alt=…>`). */
const HIDDEN_ATTRIBUTE = /[\s/](?:alt|title|aria-[\w-]+|data-[\w-]+|placeholder)\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)/gi;
/** An HTML start tag; quoted values may contain `>`; a tag left open runs to the end of the text. */
const TAG = /<[a-zA-Z][\w-]*(?:"[^"]*"|'[^']*'|[^'">])*>?/g;
/** Image alt text, with one level of nested brackets, inline `![…](` or reference-style `![…][`. */
const IMAGE_ALT = /!\[(?:[^[\]]|\[[^[\]]*\])*\](?=[([])/g;
const QUOTED_TITLE = String.raw`(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\((?:[^()\\]|\\.)*\))`;
/**
 * A link's title: `[x](url "title")`, `[x](<url with spaces> 'title')`. The destination holds no
 * `<` or parenthesis (CommonMark allows only balanced ones, which the title pattern never took), so
 * a run of `](` cannot make each start scan to the end of the line.
 */
const LINK_TITLE = new RegExp(String.raw`(\]\(\s*(?:<[^<>\n]*>|[^\s()]+))\s+${QUOTED_TITLE}\s*\)`, "g");
/** A reference definition's title: `[r]: url "title"`. */
const REFERENCE_TITLE = new RegExp(String.raw`^( {0,3}\[[^\]\n]+\]:[ \t]*(?:<[^>\n]*>|\S+))[ \t]+${QUOTED_TITLE}[ \t]*$`, "gm");

const AMP = 0x26;
const HASH = 0x23;
const SEMICOLON = 0x3b;
const LESS = 0x3c;
const BANG = 0x21;
const DASH = 0x2d;

function codeUnits(text: string): Uint16Array {
  const buf = new Uint16Array(text.length);
  for (let i = 0; i < text.length; i++) buf[i] = text.charCodeAt(i);
  return buf;
}

function fromCodeUnits(buf: Uint16Array, length: number): string {
  const parts: string[] = [];
  for (let i = 0; i < length; i += 8192) parts.push(String.fromCharCode(...buf.subarray(i, Math.min(length, i + 8192))));
  return parts.join("");
}

function digitOf(unit: number, hex: boolean): number {
  if (unit >= 0x30 && unit <= 0x39) return unit - 0x30;
  if (!hex) return -1;
  const lower = unit | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** The numeric entity at `at`: `&#` then `x` and 1–6 hex digits or 1–7 decimal digits, then an optional `;`. */
function entityAt(buf: Uint16Array, at: number): { end: number; code: number } | null {
  if (buf[at] !== AMP || buf[at + 1] !== HASH) return null;
  let i = at + 2;
  const hex = (buf[i]! | 0x20) === 0x78;
  if (hex) i++;
  const first = i;
  let code = 0;
  for (let d = digitOf(buf[i] ?? -1, hex); d >= 0 && i - first < (hex ? 6 : 7); d = digitOf(buf[i] ?? -1, hex)) {
    code = code * (hex ? 16 : 10) + d;
    i++;
  }
  if (i === first) return null;
  return { end: buf[i] === SEMICOLON ? i + 1 : i, code };
}

/**
 * Decodes numeric entities until none is left, in one scan: what a decoded character completes
 * (`&#38;#38;` → `&` + `#38;` → `&`) is read again at once, at most the 10 characters an entity
 * spans, so nesting costs no extra pass. The text is rewritten in place: the decoded part never
 * outgrows what was read. Invalid code points (surrogates, above U+10FFFF) decode to nothing.
 */
function decodeNumericEntities(text: string): string {
  if (!text.includes("&#")) return text;
  const buf = codeUnits(text);
  let w = 0;
  let r = 0;
  while (r < buf.length) {
    const entity = buf[r] === AMP ? entityAt(buf, r) : null;
    if (!entity) {
      buf[w++] = buf[r++]!;
      continue;
    }
    r = entity.end;
    const from = w;
    const { code } = entity;
    if (code > 0xffff && code <= 0x10ffff) {
      buf[w++] = 0xd800 + ((code - 0x10000) >> 10);
      buf[w++] = 0xdc00 + ((code - 0x10000) & 0x3ff);
    } else if (code < 0xd800 || (code > 0xdfff && code <= 0xffff)) buf[w++] = code;
    // A new entity holding a decoded character starts at most 9 units before it: read from its `&` again.
    let again = Math.max(0, from - 9);
    while (again < w && buf[again] !== AMP) again++;
    if (again < w) {
      buf.copyWithin(r - (w - again), again, w);
      r -= w - again;
      w = again;
    }
  }
  return fromCodeUnits(buf, w);
}

/**
 * Removes HTML comments (`<!--` to the next `-->`, or to the end) in one scan: an opener that a
 * removal completes (`<` + `<!---->` + `!---->`) is seen as soon as its last character is copied.
 */
function removeHtmlComments(text: string): string {
  if (!text.includes("<!--")) return text;
  const buf = codeUnits(text);
  let w = 0;
  let r = 0;
  while (r < buf.length) {
    buf[w++] = buf[r++]!;
    if (w >= 4 && buf[w - 1] === DASH && buf[w - 2] === DASH && buf[w - 3] === BANG && buf[w - 4] === LESS) {
      w -= 4;
      const close = text.indexOf("-->", r); // text and buf agree from r on: writes stay behind r
      r = close < 0 ? buf.length : close + 3;
    }
  }
  return fromCodeUnits(buf, w);
}

/** An unpaired surrogate, which UTF-8 cannot carry; it becomes U+FFFD. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function sanitizeOnce(text: string): string {
  return redactTokens(
    removeHtmlComments(
      decodeNumericEntities(text.replace(LONE_SURROGATE, "\uFFFD").normalize("NFC"))
        .replace(/\r\n?/g, "\n")
        .replace(ANSI, "")
        .replace(CONTROL, "")
        .replace(INVISIBLE, ""),
    )
      .replace(TAG, (tag) => tag.replace(HIDDEN_ATTRIBUTE, ""))
      .replace(IMAGE_ALT, "![]")
      .replace(LINK_TITLE, "$1)")
      .replace(REFERENCE_TITLE, "$1"),
  );
}

/** Ordinary text is stable after one or two passes, entity-encoded markup after three or four. */
const MAX_PASSES = 8;
/** Every character that opens an entity, a tag, a comment, a link destination or a title. */
const MARKUP = /[&<()"']/g;

/**
 * The visible, safe form of untrusted text. Idempotent: one removal can uncover another
 * (`&#38;#x200B;` decodes to `&#x200B;`, `<!-\u200B-` becomes `<!--`), so it repeats until stable.
 * Redaction is inside the loop: "[redacted]" can complete a pattern (`!ghp_…(x)` → `![redacted](x)`).
 * Each pass is linear, and nesting of one kind is undone within a pass; text still changing after
 * `MAX_PASSES` nests kinds in each other on purpose (`&#` + `<!---->` + `60;`…, one pass a level),
 * so its markup characters become U+FFFD: then nothing can uncover an entity, tag, comment, link
 * or title any more, and the loop is stable within a few passes.
 */
export function sanitizeUntrusted(text: string): string {
  let out = text;
  for (let pass = 1; ; pass++) {
    let next = sanitizeOnce(out);
    if (pass >= MAX_PASSES) next = next.replace(MARKUP, "\uFFFD");
    if (next === out) return out;
    out = next;
  }
}
