// Scalar rules shared by the canonical writer and the fast reader. Both follow the YAML 1.2 core
// schema (the `yaml` package's default), so a plain scalar means the same thing to either.

const NULL = /^(?:~|null|Null|NULL)?$/;
const BOOL = /^(?:true|True|TRUE|false|False|FALSE)$/;
const INT = /^[-+]?[0-9]+$/;
const OCT = /^0o[0-7]+$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const INF = /^[-+]?\.(?:inf|Inf|INF)$/;
const NAN = /^\.(?:nan|NaN|NAN)$/;

/** Resolves a plain scalar to its core-schema value. */
export function resolvePlain(text: string): unknown {
  // Fast path: only scalars starting with these characters can be anything but a string.
  const c = text.charCodeAt(0);
  const special = text.length === 0 || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46 || c === 126 || "nNtTfF".includes(text[0] as string);
  if (!special) return text;
  if (NULL.test(text)) return null;
  if (BOOL.test(text)) return text[0] === "t" || text[0] === "T";
  if (INT.test(text)) return Number.parseInt(text, 10);
  if (OCT.test(text)) return Number.parseInt(text.slice(2), 8);
  if (HEX.test(text)) return Number.parseInt(text.slice(2), 16);
  if (FLOAT.test(text)) return Number.parseFloat(text);
  if (INF.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  if (NAN.test(text)) return NaN;
  return text;
}

const PLAIN_SAFE = /^[A-Za-z0-9_(/][\x20-\x7e]*$/;
const KEY_SAFE = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** True when `s` can be written as a plain scalar and read back as the same string. */
export function isPlainSafe(s: string): boolean {
  return (
    PLAIN_SAFE.test(s) &&
    !s.endsWith(" ") &&
    !s.endsWith(":") &&
    !s.includes(": ") &&
    !s.includes(" #") &&
    resolvePlain(s) === s
  );
}

export function isPlainKey(s: string): boolean {
  return KEY_SAFE.test(s) && resolvePlain(s) === s;
}

// Characters YAML does not allow raw in a double-quoted scalar, beyond what JSON already escapes.
// Zero-width and bidi controls are escaped too, so nothing in the file is invisible to a reviewer.
const NON_PRINTABLE = /[\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff\ufffe\uffff]/g;

/** True when `text` holds a character that the canonical writer would escape (invisible or non-printable). */
export function hasRawInvisible(text: string): boolean {
  NON_PRINTABLE.lastIndex = 0;
  const found = NON_PRINTABLE.test(text);
  NON_PRINTABLE.lastIndex = 0;
  return found;
}

/** Replaces invisible and non-printable characters with \\u escapes (valid inside double quotes). */
export function escapeInvisible(text: string): string {
  return text.replace(NON_PRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A double-quoted scalar: JSON's escapes are a subset of YAML's, plus non-printables escaped. */
export function quote(s: string): string {
  return escapeInvisible(JSON.stringify(s));
}

const LITERAL_UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u0084\u0086-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufffe\uffff\ud800-\udfff\u2028\u2029]/;

/** True when a multi-line string reads well and round-trips as a literal block (`|` or `|-`). */
export function isLiteralSafe(s: string): boolean {
  if (!s.includes("\n") || s.endsWith("\n\n") || LITERAL_UNSAFE.test(s)) return false;
  const lines = (s.endsWith("\n") ? s.slice(0, -1) : s).split("\n");
  const first = lines[0] ?? "";
  if (first === "" || first.startsWith(" ") || first.startsWith("\t")) return false;
  return lines.every((l) => l === "" || l.trim() !== "");
}
