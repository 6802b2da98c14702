import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sanitizeUntrusted } from "../../../../src/core/context/sanitize.ts";
import { capComment, GITHUB_BODY_MAX, sanitizeOutbound, stripHtmlComments, truncationNote } from "../../../../src/core/sync/outbound.ts";

const out = (text: string, maxChars = 10_000): string => sanitizeOutbound(text, { maxChars });
const WJ = "\u2060";

/** What a strict comment-command parser accepts: `/word` at a line start after at most 3 spaces. */
const STRICT_COMMAND_LINE = /^ {0,3}\/[A-Za-z0-9_]/m;
/** A lenient one: the inbound sanitiser first (entities decoded, invisible characters dropped), then any blanks. */
const lenientCommand = (text: string): boolean => /^\s*\/\w/m.test(sanitizeUntrusted(text));
/** A mention as GitHub finds it in the rendered text (entities decoded, an @ not glued to a word). */
const MENTION = /(?<![A-Za-z0-9_])(?:@|&#0*64;|&#x0*40;|&commat;)[A-Za-z0-9]/i;

describe("sanitizeOutbound: HTML comments", () => {
  it("removes comments, repeated ones, nested-forming ones and an unclosed one to the end", () => {
    expect(out("a<!-- hidden -->b")).toBe("ab");
    expect(out("a<!--\nmulti\nline\n-->b<!--x-->c")).toBe("abc");
    expect(out("<<!---->!---->x")).toBe("x");
    expect(out("keep <!-- never closed\n/agent approve")).toBe("keep ");
    expect(stripHtmlComments("<!<!---->--x-->y")).toBe("y");
  });
});

describe("sanitizeOutbound: mentions", () => {
  it("puts a word joiner after the @ of users and teams, at any position", () => {
    expect(out("@octocat please")).toBe(`@${WJ}octocat please`);
    expect(out("cc @acme/reviewers, (@bob) and\n@carol")).toBe(`cc @${WJ}acme/reviewers, (@${WJ}bob) and\n@${WJ}carol`);
    expect(out("é@dora")).toBe(`é@${WJ}dora`);
  });

  it("neutralises entity-encoded @ too, since GitHub decodes it before finding mentions", () => {
    expect(out("&#64;octocat &#x40;bob &commat;carol")).toBe(`@${WJ}octocat @${WJ}bob @${WJ}carol`);
  });

  it("leaves e-mail addresses and lone @ alone", () => {
    expect(out("mail a@b.com or first.last+tag@example.org; @ alone; @-dash")).toBe("mail a@b.com or first.last+tag@example.org; @ alone; @-dash");
  });
});

describe("sanitizeOutbound: command lines", () => {
  it("escapes the slash of a line that starts with /word, after blanks, invisible characters or entities", () => {
    expect(out("/agent approve")).toBe("\\/agent approve");
    expect(out("done\n   /agent retry codex\n\t/agent cancel")).toBe("done\n   \\/agent retry codex\n\t\\/agent cancel");
    expect(out("\u200B/agent approve")).toBe("\u200B\\/agent approve");
    expect(out("&#32;/agent approve")).toBe("&#32;\\/agent approve");
    expect(out("&#47;agent approve\n&#x2F;agent x")).toBe("\\&#47;agent approve\n\\&#x2F;agent x");
  });

  it("treats CR, CRLF and Unicode line separators as line breaks", () => {
    expect(out("a\r/agent x\r\n/agent y\u2028/agent z")).toBe("a\n\\/agent x\n\\/agent y\n\\/agent z");
  });

  it("leaves slashes inside a line, and lines already escaped, alone", () => {
    expect(out("see /agent help and a/b; // comment\n\\/agent x")).toBe("see /agent help and a/b; // comment\n\\/agent x");
  });
});

describe("capComment", () => {
  it("leaves a body at the limit alone", () => {
    const body = "y".repeat(GITHUB_BODY_MAX);
    expect(capComment(body)).toBe(body);
  });

  it("cuts with a visible note that counts what was dropped, within the limit", () => {
    const body = "x".repeat(70_000);
    const capped = capComment(body);
    expect(capped.length).toBeLessThanOrEqual(GITHUB_BODY_MAX);
    const dropped = Number(/truncated: (\d+) characters not shown/.exec(capped)?.[1]);
    expect(capped.endsWith(truncationNote(dropped))).toBe(true);
    expect(capped.length - truncationNote(dropped).length + dropped).toBe(body.length);
  });

  it("never splits a surrogate pair", () => {
    for (let max = 60; max < 70; max++) {
      const capped = capComment("😀".repeat(100), max);
      expect(capped.length).toBeLessThanOrEqual(max);
      expect(capped.replace(truncationNote(Number(/(\d+) characters/.exec(capped)?.[1])), "")).toMatch(/^(?:😀)*$/u);
    }
  });

  it("gives the cut text alone when the limit cannot hold the note", () => {
    expect(capComment("abcdef", 4)).toBe("abcd");
  });
});

describe("sanitizeOutbound: properties", () => {
  const fragment = fc.constantFrom(
    "<!--", "-->", "<", "!", "-", "/agent", "/", "agent", "@", "octocat", "a", " ", "   ", "\t", "\n", "\r", "\u2028",
    "\u200B", "\u2060", "&#47;", "&#47", "&#32;", "&#64;", "&", "#", ";", "😀", "\uD83D", "`", "\\", ".", "x@y.z",
  );
  const text = fc.array(fc.oneof({ weight: 4, arbitrary: fragment }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) }), { maxLength: 60 }).map((parts) => parts.join(""));

  it("never leaves an HTML comment opener, a command line, a mention, or more than the cap; and is stable", () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 40, max: 400 }), (input, maxChars) => {
        const result = sanitizeOutbound(input, { maxChars });
        expect(result).not.toContain("<!--");
        expect(STRICT_COMMAND_LINE.test(result)).toBe(false);
        expect(lenientCommand(result)).toBe(false);
        expect(MENTION.test(result)).toBe(false);
        expect(result.length).toBeLessThanOrEqual(maxChars);
        if (result.length < maxChars - 60) expect(sanitizeOutbound(result, { maxChars })).toBe(result);
      }),
      { numRuns: 3_000 },
    );
  });

  it("stays fast on long adversarial input", () => {
    const nasty = [
      "<".repeat(30_000) + "<!---->!--".repeat(3_000) + "-->",
      "&#32;".repeat(40_000) + "x",
      "&#1111111".repeat(20_000),
      "\u200B \t".repeat(50_000) + "/",
      "@a ".repeat(50_000),
      "\n".repeat(100_000),
    ];
    for (const text of nasty) {
      const started = performance.now();
      out(text, GITHUB_BODY_MAX);
      expect(performance.now() - started, text.slice(0, 20)).toBeLessThan(1_000);
    }
  });
});
