/**
 * Links in outbound text (security target S7): see the comment below. Part of outbound.ts's
 * sanitising; kept apart because reading links the way GitHub and browsers do is most of the work.
 */
// ---------------------------------------------------------------------------------------------
// Links. GitHub turns these into links or images: bare `http(s)://…` and `www.…` (autolinks),
// `[t](url)`, `![a](url)`, `[id]: url`, `<scheme:…>`, and the URL attributes of the HTML it lets
// through (`<a href>`, `<img src>`, `<source srcset>`, …). A link whose host is not allowed is
// replaced, with everything after its host up to a space, quote or bracket (an image URL's query
// is where a secret would travel), by `(link removed: evil[.]example)`: visible, and inert, since
// the dots of the host are broken (`www[.]evil[.]example` is no autolink, even for a mail client)
// and no scheme is left. Relative links (`/acme/widgets/pull/3`, `#12`, `../x`) stay.
//
// - Hosts: an entry `github.com` allows that host only; `*.github.com` allows its subdomains (not
//   `github.com` itself). Compared in lower case, without one trailing dot. Only plain ASCII host
//   names can be allowed: userinfo (`https://github.com@evil.example`), percent-escapes,
//   entities, tabs or newlines in the host, or any non-ASCII character (IDNA maps `。` to `.` and
//   fullwidth letters to ASCII; we do not implement IDNA) make the link not allowed. Write an
//   international host name as punycode (`xn--…`). After the host (and a port) only `/`, `?`, `#`
//   or the end of the link may follow, or punctuation (`).,;:!*~_'"]}>`) up to the end of the link:
//   anything else could make a browser read a longer host or a userinfo
//   (`https://github.com!x@evil.example`, `[a](<https://github.com x@evil.example>)`).
// - Schemes: `http`/`https` (also `git+https`, `xhttps`: anything a linkifier could cut down to
//   one) and scheme-less `//host` are checked against the allow-list. In a link destination or a
//   URL attribute, `javascript:`, `vbscript:`, `data:`, `file:`, `blob:` and any other scheme
//   followed by `//` are replaced whatever the host; other schemes without `//` (`mailto:`, or the
//   `std:` of `<std::string>`) are left: GitHub drops every scheme but http, https, mailto and its
//   own from what it renders, and they name no host to fetch. Bare `postgres://…`, `s3://…` are
//   left too (GitHub links only http(s) and `www.`).
// - Everywhere the same, code spans and fences included: telling code from text needs a full
//   CommonMark parse (fence lengths, indentation, lists, quotes, HTML blocks), where one mistake
//   lets a link through; a URL inside code shows as removed instead, which is the cheap side.
// - Character references are read as browsers and CommonMark read them (`https&#58;//` is
//   `https://`) to find links; a link with one in its scheme, slashes or host is never allowed.
//   Browsers also drop tabs and newlines inside an attribute's URL: in a quoted attribute these
//   are read through, and make the link not allowed.
//
// Linear: one decoding pass, one scan; each link's host and the punctuation after it are read
// once, and what follows a replaced link is not read again.
// ---------------------------------------------------------------------------------------------

/** GitHub's own hosts: github.com and its subdomains (gist, docs, api), and githubusercontent.com's (raw files, avatars, uploaded images). Not `github.io`: anyone can publish there. */
export const DEFAULT_LINK_HOSTS: readonly string[] = ["github.com", "*.github.com", "*.githubusercontent.com"];

/** `host` or `*.host`: what an allow-list entry may be (config validates with this). */
export const LINK_HOST_PATTERN = /^(?:\*\.)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * The allow-list for outbound text: GitHub's hosts, the GitHub server's host and its subdomains
 * (GitHub Enterprise Server puts raw files and uploads on subdomains), and the configured extra hosts.
 */
export function linkAllowList(serverUrl?: string, extraHosts: readonly string[] = []): string[] {
  const server = /^https?:\/\/([A-Za-z0-9.-]+)(?::\d*)?(?:[/?#]|$)/.exec(serverUrl ?? "")?.[1]?.toLowerCase().replace(/\.$/, "");
  return [...new Set([...DEFAULT_LINK_HOSTS, ...(server ? [server, `*.${server}`] : []), ...extraHosts])];
}

function hostMatcher(entries: readonly string[]): (host: string) => boolean {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const entry of entries) {
    const e = entry.trim().toLowerCase().replace(/\.$/, "");
    if (e.startsWith("*.")) suffixes.push(e.slice(1));
    else exact.add(e);
  }
  return (host) => exact.has(host) || suffixes.some((s) => host.length > s.length && host.endsWith(s));
}

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const DQUOTE = 0x22;
const HASH = 0x23;
const AMP = 0x26;
const SQUOTE = 0x27;
const COMMA = 0x2c;
const DOT = 0x2e;
const SLASH = 0x2f;
const COLON = 0x3a;
const SEMICOLON = 0x3b;
const LT = 0x3c;
const GT = 0x3e;
const QUESTION = 0x3f;
const BACKSLASH = 0x5c;
/** Any character outside ASCII, or a reference to an entity we do not know, in the decoded view. */
const NON_ASCII = 0x80;

/** Named references that stand for a character that matters in a URL (an unknown one reads as NON_ASCII: never a delimiter, never allowed). */
const NAMED_REFERENCES: ReadonlyMap<string, number> = new Map([
  ["colon", COLON], ["sol", SLASH], ["bsol", BACKSLASH], ["period", DOT], ["commat", 0x40], ["num", HASH], ["quest", QUESTION],
  ["percnt", 0x25], ["Tab", TAB], ["NewLine", LF], ["lowbar", 0x5f], ["UnderBar", 0x5f], ["amp", AMP], ["AMP", AMP], ["lt", LT],
  ["LT", LT], ["gt", GT], ["GT", GT], ["quot", DQUOTE], ["QUOT", DQUOTE], ["apos", SQUOTE], ["lpar", 0x28], ["rpar", 0x29],
  ["lsqb", 0x5b], ["lbrack", 0x5b], ["rsqb", 0x5d], ["rbrack", 0x5d], ["comma", COMMA], ["semi", SEMICOLON], ["excl", 0x21],
  ["equals", 0x3d], ["plus", 0x2b], ["ast", 0x2a], ["midast", 0x2a], ["dollar", 0x24], ["grave", 0x60], ["DiacriticalGrave", 0x60],
  ["verbar", 0x7c], ["vert", 0x7c], ["VerticalLine", 0x7c], ["lcub", 0x7b], ["lbrace", 0x7b], ["rcub", 0x7d], ["rbrace", 0x7d], ["Hat", 0x5e],
]);

/**
 * The text as a browser or CommonMark reads it: one unit per character or character reference,
 * `dec[u]` its ASCII code (NON_ASCII above), `at[u]` where it starts in the text.
 */
interface LinkView {
  text: string;
  dec: Uint8Array;
  at: Int32Array;
  n: number;
}

function digitValue(unit: number, hex: boolean): number {
  if (unit >= 0x30 && unit <= 0x39) return unit - 0x30;
  const lower = unit | 0x20;
  return hex && lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** The character reference at `i` (`&#58;`, `&#x3A`, `&colon;`): its code and end; any number of digits, as browsers read them. */
function referenceAt(text: string, i: number): { code: number; end: number } | null {
  let j = i + 1;
  if (text.charCodeAt(j) === HASH) {
    const hex = (text.charCodeAt(j + 1) | 0x20) === 0x78;
    j += hex ? 2 : 1;
    const first = j;
    let code = 0;
    for (let d = digitValue(text.charCodeAt(j), hex); d >= 0; d = digitValue(text.charCodeAt(++j), hex)) code = Math.min(code * (hex ? 16 : 10) + d, 0x110000);
    if (j === first) return null;
    return { code, end: text.charCodeAt(j) === SEMICOLON ? j + 1 : j };
  }
  while (j - i <= 32 && isAlnum(text.charCodeAt(j))) j++;
  if (j === i + 1 || text.charCodeAt(j) !== SEMICOLON) return null;
  return { code: NAMED_REFERENCES.get(text.slice(i + 1, j)) ?? NON_ASCII, end: j + 1 };
}

function viewOf(text: string): LinkView {
  const dec = new Uint8Array(text.length);
  const at = new Int32Array(text.length + 1);
  let n = 0;
  for (let i = 0; i < text.length; n++) {
    at[n] = i;
    const c = text.charCodeAt(i);
    const ref = c === AMP ? referenceAt(text, i) : null;
    dec[n] = Math.min(ref ? ref.code : c, NON_ASCII);
    i = ref ? ref.end : i + (isHighSurrogate(c) && i + 1 < text.length ? 2 : 1);
  }
  at[n] = text.length;
  return { text, dec, at, n };
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);
}

function isAlpha(c: number): boolean {
  return (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
}

function isSchemeChar(c: number): boolean {
  return isAlnum(c) || c === 0x2b || c === 0x2d || c === DOT;
}

function isHostChar(c: number): boolean {
  return isAlnum(c) || c === 0x2d || c === DOT;
}

function isBlank(c: number): boolean {
  return c <= SPACE;
}

/** What may follow an allowed host (and port) before the link ends: punctuation no browser can read as more host or a userinfo. */
const TRAILING = new Set([0x29, 0x5d, 0x7d, GT, SQUOTE, DQUOTE, COMMA, SEMICOLON, COLON, DOT, 0x21, 0x2a, 0x7e, 0x5f]);
/** Punctuation that ends a sentence rather than a link: left after a replaced link, as autolinkers leave it out of theirs. */
const SENTENCE_END = new Set([DOT, COMMA, SEMICOLON, COLON, 0x21, QUESTION, 0x2a, 0x5f, 0x7e]);
/** Where the rest of a replaced link stops: blanks, quotes, brackets (what follows is read again). */
const TAIL_STOP = new Set([DQUOTE, SQUOTE, LT, GT, 0x60, 0x28, 0x29, 0x5b, 0x5d, 0x7b, 0x7d, 0x7c]);
/** Schemes that run code or read local data when clicked; replaced in a destination whatever follows. */
const DANGEROUS_SCHEMES = new Set(["javascript", "vbscript", "livescript", "data", "file", "blob", "filesystem", "jar", "view-source"]);

/**
 * Where a link is read, which decides where it ends for a browser. `bare`: an autolink, ended by a
 * blank or `<`. `md`: a Markdown destination, ended by a blank. `angle`: `<…>`. `dq`, `sq`,
 * `unquoted`: an HTML attribute's value; inside quotes, browsers drop tabs and newlines.
 */
type LinkContext = "bare" | "md" | "angle" | "dq" | "sq" | "unquoted";
/** When two introducers mark one unit (`href="](…`), the context read furthest wins. */
const CONTEXT_RANK: Readonly<Record<LinkContext, number>> = { bare: 0, md: 1, unquoted: 2, angle: 3, sq: 4, dq: 5 };
const CONTEXT_OF_RANK: readonly LinkContext[] = ["bare", "md", "unquoted", "angle", "sq", "dq"];

function closes(ctx: LinkContext, c: number): boolean {
  switch (ctx) {
    case "bare":
      return isBlank(c) || c === LT;
    case "md":
      return isBlank(c);
    case "angle":
      return c === GT || c === LF || c === CR;
    case "dq":
      return c === DQUOTE;
    case "sq":
      return c === SQUOTE;
    case "unquoted":
      return isBlank(c) || c === GT;
  }
}

function dropped(ctx: LinkContext, c: number): boolean {
  return (ctx === "dq" || ctx === "sq" || ctx === "angle") && (c === TAB || c === LF || c === CR);
}

/** `[t](`, `[id]:` then blanks and an optional `<`; `<scheme:`; a URL attribute's `=` and quote. */
const MARKDOWN_DESTINATION = /\]\(|\]:/g;
const ANGLE_AUTOLINK = /<(?=[A-Za-z][A-Za-z0-9+.-]{1,31}:)/g;
const URL_ATTRIBUTE = /(?<![\w-])(href|src|srcset|imagesrcset|cite|longdesc|poster|background|action|formaction|data|codebase|archive|lowsrc|dynsrc|ping|manifest|icon|usemap|profile)[\t\n\f\r ]*=[\t\n\f\r ]*(["']?)/gi;

/**
 * The units where a link destination starts, with the context that reads it (rank + 1; 0: none),
 * and the barriers a replaced link's rest must not cross: the start of a URL attribute's name and a
 * srcset comma, so that a replacement never removes what makes a later link a destination (the
 * result would read differently when sanitised again).
 */
function destinationStarts(v: LinkView): { marks: Uint8Array; barriers: Uint8Array } {
  const marks = new Uint8Array(v.n + 1);
  const barriers = new Uint8Array(v.n + 1);
  const unitAt = new Int32Array(v.text.length + 1).fill(-1);
  for (let u = 0; u <= v.n; u++) unitAt[v.at[u]!] = u;
  const mark = (u: number, ctx: LinkContext, skipBlanks: boolean, angle: boolean): void => {
    while (skipBlanks && u < v.n && isBlank(v.dec[u]!)) u++;
    if (angle && v.dec[u] === LT && literal(v, u)) {
      u++;
      ctx = "angle";
      while (u < v.n && isBlank(v.dec[u]!)) u++;
    }
    marks[u] = Math.max(marks[u]!, CONTEXT_RANK[ctx] + 1);
  };
  for (const m of v.text.matchAll(MARKDOWN_DESTINATION)) mark(unitAt[m.index + 2]!, "md", true, true);
  for (const m of v.text.matchAll(ANGLE_AUTOLINK)) mark(unitAt[m.index + 1]!, "angle", false, false);
  let scannedUntil = 0;
  for (const m of v.text.matchAll(URL_ATTRIBUTE)) {
    const ctx: LinkContext = m[2] === '"' ? "dq" : m[2] === "'" ? "sq" : "unquoted";
    const start = unitAt[m.index + m[0].length]!;
    barriers[unitAt[m.index]!] = 1;
    mark(start, ctx, true, false);
    if (!/srcset$/i.test(m[1]!)) continue;
    // srcset: every candidate after a comma is a URL too.
    for (let u = Math.max(start, scannedUntil); u < v.n && !(literal(v, u) && closes(ctx, v.dec[u]!)); u++) {
      if (v.dec[u] === COMMA) {
        barriers[u] = 1;
        mark(u + 1, ctx, true, false);
      }
      scannedUntil = u + 1;
    }
  }
  return { marks, barriers };
}

/** One source character that is itself (not a reference, not half of a pair). */
function literal(v: LinkView, u: number): boolean {
  return v.at[u + 1]! - v.at[u]! === 1 && v.text.charCodeAt(v.at[u]!) === v.dec[u];
}

/** What to do with the link at a unit: keep (skip to `end`) or replace `start`…`end` by `label`. */
interface Verdict {
  start: number;
  end: number;
  label?: string;
}

function removedLink(label: string): string {
  return `(link removed: ${label === "" ? "?" : label})`;
}

/** A host as shown in the note: lower case, at most 100 characters, no character that could make it a link again. */
function shownHost(host: string): string {
  const cut = host.length > 100 ? `${host.slice(0, 100)}…` : host;
  return cut.toLowerCase().replace(/[^a-z0-9.…-]/g, "?").replace(/\./g, "[.]");
}

class LinkJudge {
  private readonly allowed: (host: string) => boolean;

  constructor(
    private readonly v: LinkView,
    allowedHosts: readonly string[],
  ) {
    this.allowed = hostMatcher(allowedHosts);
  }

  /** Past the rest of a replaced link, from `u`: up to a blank, quote or bracket. */
  private tail(u: number): number {
    while (u < this.v.n && !isBlank(this.v.dec[u]!) && !TAIL_STOP.has(this.v.dec[u]!)) u++;
    return u;
  }

  /**
   * The link whose authority is read from `from` (after `scheme:`, or at `//`, or at `www.`), to be
   * replaced from `start`. Kept only when scheme, slashes and host are plain text, there are exactly
   * two slashes (none for `www.`), the host is allowed, and only a port and punctuation follow it.
   */
  authority(start: number, from: number, ctx: LinkContext, kind: "scheme" | "www" | "other"): Verdict {
    const { dec, n } = this.v;
    let r = from;
    let plain = true;
    const skipDropped = (): void => {
      while (r < n && dropped(ctx, dec[r]!)) {
        r++;
        plain = false;
      }
    };
    let slashes = 0;
    skipDropped();
    if (kind !== "www") {
      for (; r < n && (dec[r] === SLASH || dec[r] === BACKSLASH); skipDropped()) {
        if (dec[r] === BACKSLASH) plain = false;
        slashes++;
        r++;
      }
    }
    const hostStart = r;
    let host = "";
    for (; r < n && isHostChar(dec[r]!); skipDropped()) host += String.fromCharCode(dec[r++]!);
    if (dec[r] === COLON) {
      for (r++, skipDropped(); r < n && dec[r]! >= 0x30 && dec[r]! <= 0x39; skipDropped()) r++;
    }
    const hostEnd = r;
    // What follows, up to the path or the end of the link: punctuation only (else a browser may read
    // more host, or a userinfo), and punctuation only before the end (`github.com]://` is no host of ours).
    for (; r < n && plain; r++) {
      const c = dec[r]!;
      const lit = literal(this.v, r);
      if (lit && (c === SLASH || c === QUESTION || c === HASH)) plain = r === hostEnd;
      if (lit && (c === SLASH || c === QUESTION || c === HASH || closes(ctx, c))) break;
      if (!lit || !TRAILING.has(c)) plain = false;
    }
    plain &&= this.v.at[hostEnd]! - this.v.at[start]! === hostEnd - start; // no reference, no pair, in scheme, slashes or host
    const name = host.toLowerCase().replace(/\.$/, "");
    const ok = plain && kind !== "other" && slashes === (kind === "www" ? 0 : 2) && name.split(".").every((label) => label !== "") && this.allowed(name);
    if (ok) return { start, end: hostEnd };
    // The sentence's own punctuation after the link stays (`see https://evil.example/x, then`).
    let end = this.tail(hostEnd);
    while (end > hostStart && SENTENCE_END.has(dec[end - 1]!)) end--;
    return { start, end, label: shownHost(this.hostShown(hostStart, ctx).replace(/\.+$/, "")) };
  }

  /** The host a browser would read from `u`: after the last `@` before the path, up to a port, blank, quote or bracket (tabs and newlines dropped where browsers drop them). */
  private hostShown(u: number, ctx: LinkContext): string {
    const { dec, n } = this.v;
    let authority = "";
    for (; u < n && authority.length < 300; u++) {
      const c = dec[u]!;
      if (c === SLASH || c === BACKSLASH || c === QUESTION || c === HASH || closes(ctx, c)) break;
      if (!dropped(ctx, c)) authority += c === NON_ASCII ? "?" : String.fromCharCode(c);
    }
    return /^[^:\s"'<>`()[\]{}|]*/.exec(authority.slice(authority.lastIndexOf("@") + 1))![0];
  }

  /** A link destination or URL attribute value starting at `u`; null when it is relative, a fragment or a harmless scheme. */
  destination(u: number, ctx: LinkContext): Verdict | null {
    const { dec, n } = this.v;
    let r = u;
    const skip = (): void => {
      while (r < n && dropped(ctx, dec[r]!)) r++;
    };
    skip();
    if (dec[r] === SLASH || dec[r] === BACKSLASH) {
      r++;
      skip();
      return dec[r] === SLASH || dec[r] === BACKSLASH ? this.authority(u, u, ctx, "scheme") : null;
    }
    if (!isAlpha(dec[r] ?? 0)) return null;
    let scheme = "";
    for (; r < n && isSchemeChar(dec[r]!); skip()) scheme += String.fromCharCode(dec[r++]!);
    if (dec[r] !== COLON) return null;
    scheme = scheme.toLowerCase();
    if (scheme.endsWith("http") || scheme.endsWith("https")) return this.authority(u, r + 1, ctx, "scheme");
    r++;
    skip();
    if (DANGEROUS_SCHEMES.has(scheme)) return { start: u, end: this.tail(r), label: `${scheme}:` };
    if (dec[r] === SLASH || dec[r] === BACKSLASH) return this.authority(u, r, ctx, "other");
    return null;
  }
}

function isWwwAt(v: LinkView, u: number): boolean {
  const { dec } = v;
  return (
    (dec[u]! | 0x20) === 0x77 &&
    (dec[u + 1]! | 0x20) === 0x77 &&
    (dec[u + 2]! | 0x20) === 0x77 &&
    dec[u + 3] === DOT &&
    u + 4 < v.n &&
    ((isHostChar(dec[u + 4]!) && dec[u + 4] !== DOT) || dec[u + 4] === 0x5f || dec[u + 4] === NON_ASCII) &&
    (u === 0 || !isAlnum(dec[u - 1]!))
  );
}

/** A scheme run `[runStart, colon)` that ends in http or https (`https`, `git+https`, `xhttps`). */
function endsWithHttp(v: LinkView, runStart: number, colon: number): boolean {
  const lower = (u: number): number => v.dec[u]! | 0x20;
  const http = (end: number): boolean => end - runStart >= 4 && lower(end - 4) === 0x68 && lower(end - 3) === 0x74 && lower(end - 2) === 0x74 && lower(end - 1) === 0x70;
  return http(colon) || ((lower(colon - 1) === 0x73) && http(colon - 1));
}

/** Links to hosts outside `allowedHosts` replaced by a visible, inert note (see the section comment). */
export function neutraliseLinks(text: string, allowedHosts: readonly string[] = DEFAULT_LINK_HOSTS): string {
  if (!/[:/\\&]|www/i.test(text)) return text;
  const v = viewOf(text);
  const { marks, barriers } = destinationStarts(v);
  const judge = new LinkJudge(v, allowedHosts);
  const out: string[] = [];
  let copied = 0;
  let runStart = 0;
  // In the path of a kept link (up to a blank, quote or bracket) `www.` is part of that link, not one of its own (`https://github.com/acme/www.acme.com`).
  let inKeptPath = false;
  for (let u = 0; u < v.n; ) {
    const c = v.dec[u]!;
    const mark = marks[u]!;
    if (isBlank(c) || TAIL_STOP.has(c)) inKeptPath = false;
    let verdict = mark > 0 ? judge.destination(u, CONTEXT_OF_RANK[mark - 1]!) : null;
    if (!verdict && !inKeptPath && isWwwAt(v, u)) verdict = judge.authority(u, u, "bare", "www");
    if (!verdict && c === COLON && (v.dec[u + 1] === SLASH || v.dec[u + 1] === BACKSLASH) && endsWithHttp(v, runStart, u)) {
      verdict = judge.authority(runStart, u + 1, "bare", "scheme");
    }
    if (verdict) {
      if (verdict.label !== undefined) {
        // Never past a barrier (see destinationStarts): a later link keeps its context.
        for (let b = verdict.start + 1; b < verdict.end; b++) if (barriers[b] === 1) verdict.end = b;
        out.push(text.slice(copied, v.at[verdict.start]), removedLink(verdict.label));
        copied = v.at[verdict.end]!;
      }
      inKeptPath = verdict.label === undefined;
      u = runStart = Math.max(verdict.end, u + 1);
      continue;
    }
    if (!isSchemeChar(c)) runStart = u + 1;
    u++;
  }
  return copied === 0 ? text : out.join("") + text.slice(copied);
}

export function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}
