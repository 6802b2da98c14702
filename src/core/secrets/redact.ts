/**
 * Redaction of secrets from text that may be published. The ledger lives on a branch that is pushed
 * to GitHub, so anything an agent or an issue wrote passes through a `Redact` before it reaches the
 * ledger, a commit message, a log line or a bundle: token shapes (GitHub, Anthropic, OpenAI, AWS,
 * Slack, JWTs, private keys, bearer/basic credentials) and the exact values of the secrets the
 * router holds in its environment (a value the agent echoes back is caught whatever its shape).
 */

export type Redact = (text: string) => string;

export const REDACTED = "[redacted]";

/**
 * Token shapes. Distinctive prefixes match anywhere, even glued to a word (`MY_TOKEN_ghp_…`); the
 * short `sk-` prefix only after a non-letter, so words like "risk-…" stay.
 */
const TOKEN_SHAPES = [
  String.raw`gh[pousr]_[A-Za-z0-9]{20,}`,
  String.raw`github_pat_[A-Za-z0-9_]{20,}`,
  String.raw`sk-ant-[A-Za-z0-9_-]{20,}`,
  String.raw`(?<![A-Za-z0-9])sk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}`,
  String.raw`(?:AKIA|ASIA)[0-9A-Z]{16}`,
  String.raw`xox[abposr]-[A-Za-z0-9-]{10,}`,
  String.raw`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)`,
];
const TOKENS = new RegExp(TOKEN_SHAPES.join("|"), "g");
const BASE64URL_RUN = /[A-Za-z0-9_-]+/g;
/** What follows a JWT's header: `.eyJ…` payload and `.…` signature, 8+ base64url characters each. */
const JWT_REST = /\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/y;

/**
 * JWTs (`eyJ…​.eyJ…​.…`, 8+ characters a part), wherever the header starts, even glued to a word.
 * Scanned by hand: as one regular expression the pattern restarts at every `eyJ` of a run and reads
 * the run to its end each time, quadratic in `eyJeyJeyJ…`. The header starts at the run's first
 * `eyJ`: a later one only has fewer characters before the dot.
 */
function redactJwts(text: string): string {
  if (!text.includes("eyJ")) return text;
  let out = "";
  let done = 0;
  BASE64URL_RUN.lastIndex = 0;
  for (let run = BASE64URL_RUN.exec(text); run; run = BASE64URL_RUN.exec(text)) {
    const end = run.index + run[0].length;
    const header = run.index + run[0].indexOf("eyJ");
    if (header < run.index || end - header < 11) continue;
    JWT_REST.lastIndex = end;
    if (!JWT_REST.test(text)) continue;
    out += `${text.slice(done, header)}${REDACTED}`;
    done = JWT_REST.lastIndex;
    BASE64URL_RUN.lastIndex = done;
  }
  return done === 0 ? text : out + text.slice(done);
}
/** A credential after a scheme or an assignment: `Bearer …`, `Authorization: Basic …`, `aws_secret_access_key = …`. */
const CREDENTIAL = /\b((?:Bearer|Basic)\s+|Authorization:\s*(?:token\s+)?|(?:aws_secret_access_key|aws_session_token|client_secret|password)\s*[=:]\s*["']?)[A-Za-z0-9._~+/=-]{16,}/gi;

/**
 * Names of environment variables whose values are secrets: tokens, keys, passwords, credentials.
 * `KEY` alone counts only at a word's edge (`API_KEY`, `KEY_ID` would not; `MONKEY` does not).
 */
const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|PRIVATE|COOKIE|(?:^|_)(?:API_?)?KEY$|(?:^|_)AUTH(?:_|$)|_PAT$/i;
/** Shorter values would redact ordinary words ("true", "main"); no real secret is this short. */
export const MIN_SECRET_LENGTH = 8;

/** The values of the secret-named variables in `env` (and, for a multi-line value such as a PEM key, each long line). */
export function secretValuesOf(env: Readonly<Record<string, string | undefined>>): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !SECRET_NAME.test(name)) continue;
    addSecret(values, value);
  }
  return [...values];
}

function addSecret(into: Set<string>, value: string): void {
  const trimmed = value.trim();
  if (trimmed.length >= MIN_SECRET_LENGTH) into.add(trimmed);
  if (trimmed.includes("\n")) for (const line of trimmed.split(/\r?\n/)) if (line.trim().length >= 20) into.add(line.trim());
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * A redactor for the token shapes and these exact values (longest first, so a value that contains
 * another is removed whole). Linear in the text: one pass per pattern, no backtracking across values;
 * every shape fails within a few characters or consumes what it read, so no run is read again from
 * each of its positions (the sanitiser relies on this for untrusted input of any size).
 */
export function makeRedactor(secrets: readonly string[] = []): Redact {
  const set = new Set<string>();
  for (const s of secrets) addSecret(set, s);
  const values = [...set].sort((a, b) => b.length - a.length);
  const exact = values.length > 0 ? new RegExp(values.map(escape).join("|"), "g") : null;
  return (text: string): string => {
    if (text === "") return text;
    let out = exact ? text.replace(exact, REDACTED) : text;
    out = redactJwts(out).replace(TOKENS, REDACTED);
    return out.replace(CREDENTIAL, (_whole, lead: string) => `${lead}${REDACTED}`);
  };
}

/** Only the token shapes: for places that know no environment. */
export const redactTokens: Redact = makeRedactor();

/**
 * Every string inside a plain value (objects, arrays), redacted; other values as they are. Keys are
 * kept. Returns the same object when nothing changed, so callers can tell.
 */
export function redactDeep<T>(value: T, redact: Redact): T {
  if (typeof value === "string") return redact(value) as T;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v: unknown) => {
      const r = redactDeep(v, redact);
      if (r !== v) changed = true;
      return r;
    });
    return (changed ? out : value) as T;
  }
  if (value !== null && typeof value === "object") {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const r = redactDeep(v, redact);
      if (r !== v) changed = true;
      out[k] = r;
    }
    return (changed ? out : value) as T;
  }
  return value;
}
