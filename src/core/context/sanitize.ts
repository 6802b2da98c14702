/**
 * Inbound sanitising of text that people outside the maintainers can write (titles, bodies,
 * comments). It removes what a reader of the rendered page cannot see but a model can: HTML
 * comments, zero-width, bidi and tag characters, soft hyphens, ANSI escapes, hidden HTML attributes,
 * image alt text and link titles. Numeric HTML entities are decoded first, so `&#x200B;` cannot
 * smuggle a character past the filter. Secrets that look like tokens are redacted.
 */

/** Zero-width (U+200B–U+200D, U+2060, U+FEFF), soft hyphen, bidi controls, tag characters, other invisible format characters. */
const INVISIBLE = /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB]|\u{E0000}|[\u{E0001}-\u{E007F}]|[\u{E0100}-\u{E01EF}]/gu;
/** ANSI CSI and OSC sequences, then any other C0/C1 control character except tab and newline. */
const ANSI = /\u001B\[[0-?]*[ -/]*[@-~]|\u001B\][^\u0007\u001B]*(?:\u0007|\u001B\\)?|\u009B[0-?]*[ -/]*[@-~]|\u001B[@-Z\\-_]?/g;
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
const HTML_COMMENT = /<!--[\s\S]*?(?:-->|$)/g;
/** An attribute people do not see on the page, after whitespace or a slash (`<img/alt=…>`). */
const HIDDEN_ATTRIBUTE = /[\s/](?:alt|title|aria-[\w-]+|data-[\w-]+|placeholder)\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)/gi;
/** An HTML start tag; quoted values may contain `>`; a tag left open runs to the end of the text. */
const TAG = /<[a-zA-Z][\w-]*(?:"[^"]*"|'[^']*'|[^'">])*>?/g;
/** Image alt text, with one level of nested brackets, inline `![…](` or reference-style `![…][`. */
const IMAGE_ALT = /!\[(?:[^[\]]|\[[^[\]]*\])*\](?=[([])/g;
const QUOTED_TITLE = String.raw`(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\((?:[^()\\]|\\.)*\))`;
/** A link's title: `[x](url "title")`, `[x](<url with spaces> 'title')`. */
const LINK_TITLE = new RegExp(String.raw`(\]\(\s*(?:<[^>\n]*>|[^\s)]+))\s+${QUOTED_TITLE}\s*\)`, "g");
/** A reference definition's title: `[r]: url "title"`. */
const REFERENCE_TITLE = new RegExp(String.raw`^( {0,3}\[[^\]\n]+\]:[ \t]*(?:<[^>\n]*>|\S+))[ \t]+${QUOTED_TITLE}[ \t]*$`, "gm");
const NUMERIC_ENTITY = /&#(?:x([0-9a-f]{1,6})|(\d{1,7}));?/gi;

/**
 * Token shapes of GitHub, Anthropic, OpenAI, AWS, Slack, and JWTs. Distinctive prefixes match
 * anywhere, even glued to a word (`MY_TOKEN_ghp_…`); the short `sk-` prefix only after a non-letter,
 * so words like "risk-…" stay.
 */
const SECRET = /(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|sk-ant-[A-Za-z0-9_-]{20,}|(?<![A-Za-z0-9])sk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|xox[abposr]-[A-Za-z0-9-]{10,}|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})/g;

function decodeNumericEntities(text: string): string {
  return text.replace(NUMERIC_ENTITY, (whole, hex: string | undefined, dec: string | undefined) => {
    const code = hex !== undefined ? parseInt(hex, 16) : Number(dec);
    if (!Number.isInteger(code) || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return "";
    return String.fromCodePoint(code);
  });
}

/** Replaces anything shaped like an access token with `[redacted]`. */
export function redactSecrets(text: string): string {
  return text.replace(SECRET, "[redacted]");
}

/** An unpaired surrogate, which UTF-8 cannot carry; it becomes U+FFFD. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function sanitizeOnce(text: string): string {
  return redactSecrets(decodeNumericEntities(text.replace(LONE_SURROGATE, "\uFFFD").normalize("NFC"))
    .replace(/\r\n?/g, "\n")
    .replace(ANSI, "")
    .replace(CONTROL, "")
    .replace(INVISIBLE, "")
    .replace(HTML_COMMENT, "")
    .replace(TAG, (tag) => tag.replace(HIDDEN_ATTRIBUTE, ""))
    .replace(IMAGE_ALT, "![]")
    .replace(LINK_TITLE, "$1)")
    .replace(REFERENCE_TITLE, "$1"));
}

/**
 * The visible, safe form of untrusted text. Idempotent: one removal can uncover another
 * (`&#38;#x200B;` decodes to `&#x200B;`, `<!-\u200B-` becomes `<!--`), so it repeats until stable.
 * Redaction is inside the loop: "[redacted]" can complete a pattern (`!ghp_…(x)` → `![redacted](x)`).
 * The loop ends: every pass that changes something removes characters, except redaction, which
 * replaces 20+ characters with 10 that no secret pattern matches.
 */
export function sanitizeUntrusted(text: string): string {
  let out = text;
  for (let next = sanitizeOnce(out); next !== out; next = sanitizeOnce(out)) out = next;
  return out;
}
