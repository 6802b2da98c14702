import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sanitizeUntrusted } from "../../../../src/core/context/sanitize.ts";
import { DEFAULT_LINK_HOSTS, linkAllowList } from "../../../../src/core/sync/outbound-links.ts";
import { capComment, GITHUB_BODY_MAX, sanitizeInline, sanitizeOutbound, stripHtmlComments, truncationNote } from "../../../../src/core/sync/outbound.ts";

const out = (text: string, maxChars = 10_000): string => sanitizeOutbound(text, { maxChars });
const WJ = "\u2060";

/** What a strict comment-command parser accepts: `/word` at a line start after at most 3 spaces. */
const STRICT_COMMAND_LINE = /^ {0,3}\/[A-Za-z0-9_]/m;
/** A lenient one: the inbound sanitiser first (entities decoded, invisible characters dropped), then any blanks. */
const lenientCommand = (text: string): boolean => /^\s*\/\w/m.test(sanitizeUntrusted(text));
/**
 * The hosts of http(s) and www. links (references decoded) that are not github.com or one of its
 * subdomains, read simply: up to the path or a blank, after any userinfo, without trailing punctuation.
 */
const linksElsewhere = (text: string): string[] =>
  [...text.replace(/&#0*58(?:;|(?![0-9]))/g, ":").replace(/&#0*47(?:;|(?![0-9]))/g, "/").matchAll(/(?:https?:[/\\]+|(?<![a-z0-9])www\.(?=[a-z0-9_-]))([^/\\?#\s<>]*)/gi)]
    .map((m) => (m[0].toLowerCase().startsWith("www.") ? "www." : "") + m[1]!.slice(m[1]!.lastIndexOf("@") + 1).replace(/[)\]}>'",;:!*~_.]+$/, "").replace(/:\d*$/, "").toLowerCase())
    .filter((host) => !/^(?:[a-z0-9-]+\.)*github\.com$/.test(host));
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

/** The note for a removed link to `host` (dots broken so nothing can linkify it again). */
const removed = (host: string): string => `(link removed: ${host.replace(/\./g, "[.]")})`;
const EVIL = removed("evil.example");

describe("sanitizeOutbound: links", () => {
  it("replaces bare http(s) links to other hosts, with their path and query (where a secret would travel)", () => {
    expect(out("see https://evil.example/login?next=1 now")).toBe(`see ${EVIL} now`);
    expect(out("http://evil.example\nHTTPS://EVIL.EXAMPLE/?q=SECRET")).toBe(`${EVIL}\n${EVIL}`);
    expect(out("x https://evil.example:8443/a?token=SECRET#f")).not.toContain("SECRET");
  });

  it("keeps links to allowed hosts byte for byte, whatever the case, port or punctuation around them", () => {
    const kept = [
      "PR: https://github.com/acme/widgets/pull/3, see (https://github.com). Also **https://GitHub.COM/Acme**!",
      "https://gist.github.com/x https://raw.githubusercontent.com/acme/w/main/a.png https://github.com:443/a https://github.com./a",
      "[pr](https://github.com/acme/widgets/pull/3) ![shot](https://user-images.githubusercontent.com/1/a.png \"t\")",
      "[ref]: https://github.com/acme\n<https://github.com/acme> www.github.com/acme, git+https://github.com/acme/w.git",
      "<a href=\"https://github.com/acme\">a</a> <img src='https://avatars.githubusercontent.com/u/1'> <a href=https://github.com>b</a>",
      "relative: [pr](/acme/widgets/pull/3), [c](#12), [up](../README.md), see /acme/widgets/issues/4 and #12",
      "mail a@b.com, [m](mailto:team@example.org), code like vector<std::string> and postgres://db.internal/x, //nolint:errcheck",
    ].join("\n");
    expect(out(kept)).toBe(kept);
  });

  it("replaces www. autolinks to other hosts (GitHub links www.x.com)", () => {
    expect(out("go to www.evil.example/x or WWW.Evil.Example")).toBe(`go to ${removed("www.evil.example")} or ${removed("www.evil.example")}`);
    expect(out("www.github.com/acme https://github.com/acme/www.acme.com")).toBe("www.github.com/acme https://github.com/acme/www.acme.com");
    expect(out("(https://github.com/a)www.evil.example")).toBe(`(https://github.com/a)${removed("www.evil.example")}`);
  });

  it("replaces Markdown links, images, reference definitions and angle autolinks", () => {
    expect(out("[click](https://evil.example/login)")).toBe(`[click](${EVIL})`);
    expect(out("![](https://evil.example/?q=SECRET)")).toBe(`![](${EVIL})`);
    expect(out("[a](<https://evil.example/a b> \"t\")")).toBe(`[a](<${EVIL} b> "t")`);
    expect(out("[x][r]\n\n[r]: https://evil.example/a.png")).toBe(`[x][r]\n\n[r]: ${EVIL}`);
    expect(out("[r]:\n  <//evil.example/a>")).toBe(`[r]:\n  <${EVIL}>`);
    expect(out("<https://evil.example/a>")).toBe(`<${EVIL}>`);
    expect(out("<javascript:alert(1)> <DATA:text/html,x>")).toBe("<(link removed: javascript:)(1)> <(link removed: data:)>");
  });

  it("replaces URL attributes of HTML, quoted or not, srcset candidates and protocol-relative values", () => {
    expect(out('<a href="https://evil.example/x">x</a>')).toBe(`<a href="${EVIL}">x</a>`);
    expect(out("<img src='//evil.example/a.png'><IMG SRC = //evil.example/b.png>")).toBe(`<img src='${EVIL}'><IMG SRC = ${EVIL}>`);
    expect(out('<img srcset="a.png 1x, //evil.example/b.png 2x">')).toBe(`<img srcset="a.png 1x, ${EVIL} 2x">`);
    expect(out('<picture><source srcset="https://evil.example/d.png"></picture>')).toBe(`<picture><source srcset="${EVIL}"></picture>`);
    expect(out('<a href="/\\evil.example/">a</a> [b](\\\\evil.example)')).toBe(`<a href="${EVIL}">a</a> [b](${EVIL})`);
  });

  it("replaces javascript:, data:, vbscript: and file: destinations, and any other scheme with //", () => {
    expect(out("[x](javascript:alert(1)) <a href=\"JaVa&#x09;Script:alert(1)\">y</a>")).toBe("[x]((link removed: javascript:)(1)) <a href=\"(link removed: javascript:)(1)\">y</a>");
    expect(out("![i](data:image/png;base64,AAAA) [v](vbscript:x) [f](file:///etc/passwd)")).toBe("![i]((link removed: data:)) [v]((link removed: vbscript:)) [f]((link removed: file:))");
    expect(out("[x](ftp://evil.example/a) [y](javascript://github.com/%0Aalert(1))")).toBe(`[x](${EVIL}) [y]((link removed: javascript:)(1))`);
    expect(out("[s](http:evil.example) [t](https:/evil.example)")).toBe(`[s](${EVIL}) [t](${EVIL})`);
  });

  it("does not let userinfo, a longer host or a look-alike pass as an allowed host", () => {
    expect(out("https://github.com@evil.example/ https://github.com:443@evil.example/")).toBe(`${EVIL} ${EVIL}`);
    expect(out("https://github.com.evil.example/x https://evil.example.github.com.evil.example")).toBe(`${removed("github.com.evil.example")} ${removed("evil.example.github.com.evil.example")}`);
    expect(out("[a](https://github.com!x@evil.example/) [b](https://github.com(x@evil.example))")).toBe(`[a](${EVIL}) [b](${EVIL}(x@evil.example))`);
    expect(out("[a](<https://github.com x@evil.example>)")).not.toMatch(/\(<https:/);
    expect(out("https://github.com_x.evil.example https://github.com%2eevil.example https://github.com&#46;evil.example")).not.toContain("https:");
    expect(out("https://githubusercontent.com https://github.io https://acme.github.io https://mygithub.com")).not.toContain("https:");
  });

  it("never allows a host with non-ASCII characters (IDNA would map them) and compares punycode as written", () => {
    expect(out("https://github.com\u3002evil.example/ https://\uFF47ithub.com/ https://g\u0456thub.com/")).not.toContain("https:");
    expect(sanitizeOutbound("https://xn--bcher-kva.example/ https://bücher.example/", { maxChars: 500, allowedHosts: ["xn--bcher-kva.example"] })).toBe(`https://xn--bcher-kva.example/ ${removed("b?cher.example")}`);
  });

  it("reads character references as browsers do, and never allows a link that uses one", () => {
    expect(out("[x](https&#58;//evil.example) [y](&#104;ttps://evil.example) <a href=\"&#47;&#47;evil.example\">z</a>")).toBe(`[x](${EVIL}) [y](${EVIL}) <a href="${EVIL}">z</a>`);
    expect(out("https&colon;&sol;&sol;evil.example &#x0000068;ttps://evil.example")).toBe(`${EVIL} ${EVIL}`);
    expect(out("[y](&#104;ttps://github.com/)")).toBe(`[y](${removed("github.com")})`);
    expect(out("https://github.com&#x0000002f;@evil.example")).not.toContain("https:");
  });

  it("reads through tabs and newlines inside a quoted attribute, as browsers drop them there", () => {
    expect(out('<a href="https://github.com\n.evil.example">x</a>')).toBe(`<a href="${removed("github.com.evil.example")}">x</a>`);
    expect(out('<a href="ht\ttps://evil.example">x</a>')).toBe(`<a href="${EVIL}">x</a>`);
  });

  it("checks a link even when the command escape made its slashes (`\\/` is `//` to a browser)", () => {
    expect(out('<a href="\n/evil.example">x</a>')).toBe(`<a href="\n${EVIL}">x</a>`);
    expect(out('<a href="\n/\\evil.example">x</a>')).toBe(`<a href="\n${EVIL}">x</a>`);
    expect(out('<a href="\n//evil.example">x</a>')).toBe(`<a href="\n${EVIL}">x</a>`);
  });

  it("treats code spans and fences like any other text (documented: no Markdown parse to get wrong)", () => {
    expect(out("`curl https://evil.example/x`\n```\nfetch('https://evil.example')\n```")).toBe(`\`curl ${EVIL}\`\n\`\`\`\nfetch('${EVIL}')\n\`\`\``);
  });

  it("writes a note that is not a link for GitHub or a mail client, and is stable", () => {
    const result = out("www.evil.example https://sub.evil.example/?x=1, [a](javascript:x)");
    expect(result).toBe(`${removed("www.evil.example")} ${removed("sub.evil.example")}, [a]((link removed: javascript:))`);
    expect(result).not.toMatch(/https?:|www\.|evil\.example|\]\(javascript:/i);
    expect(out(result)).toBe(result);
    // Found by fuzzing: a replacement must not change what an earlier kept link was judged by, nor remove what makes a later one a destination.
    for (const tricky of ["https://gist.github.com]://", '<https:href="https://github.com"#', 'x https://evil.example/src="https://github.com"!']) {
      expect(out(out(tricky))).toBe(out(tricky));
    }
  });

  it("uses the allow-list it is given: exact hosts, *.host for subdomains only, config hosts and the server's", () => {
    const text = "https://docs.acme.com/a https://acme.com/b https://x.cdn.acme.com/c https://cdn.acme.com/d https://github.com/e";
    expect(sanitizeOutbound(text, { maxChars: 1_000, allowedHosts: ["docs.acme.com", "*.cdn.acme.com"] })).toBe(
      `https://docs.acme.com/a ${removed("acme.com")} https://x.cdn.acme.com/c ${removed("cdn.acme.com")} ${removed("github.com")}`,
    );
    const hosts = linkAllowList("https://GHE.Acme.com/", ["Docs.Acme.com"]);
    expect(hosts).toEqual([...DEFAULT_LINK_HOSTS, "ghe.acme.com", "*.ghe.acme.com", "Docs.Acme.com"]);
    expect(sanitizeOutbound("https://ghe.acme.com/a https://media.ghe.acme.com/b https://docs.acme.com/c https://github.com/d https://acme.com/e", { maxChars: 1_000, allowedHosts: hosts })).toBe(
      `https://ghe.acme.com/a https://media.ghe.acme.com/b https://docs.acme.com/c https://github.com/d ${removed("acme.com")}`,
    );
    expect(out("https://docs.acme.com/a")).toBe(removed("docs.acme.com"));
    expect(sanitizeInline("see\n https://evil.example/x  and https://docs.acme.com/y", 200, ["docs.acme.com"])).toBe(`see ${EVIL} and https://docs.acme.com/y`);
  });

  it("cuts before an allowed link rather than inside its host (docs.acme.co is somebody else's)", () => {
    const hosts = ["docs.acme.com"];
    const text = `${"x".repeat(100)} https://docs.acme.com/page ${"y".repeat(200)}`;
    const max = 101 + "https://docs.acme.co".length + truncationNote(text.length).length;
    const result = sanitizeOutbound(text, { maxChars: max, allowedHosts: hosts });
    expect(result.length).toBeLessThanOrEqual(max);
    expect(result).not.toContain("https://");
    expect(result.startsWith(`${"x".repeat(100)} \n\n… (truncated:`)).toBe(true);
  });

  it("stays fast on 64 KB of adversarial link-like input", () => {
    const K = 65_536;
    const fill = (unit: string, prefix = "", suffix = ""): string => prefix + unit.repeat(Math.ceil((K - prefix.length - suffix.length) / unit.length)) + suffix;
    const nasty = [
      fill("https://"), fill("www.github.com)"), fill(")", "https://github.com", "x"), fill("](//"), fill('href="'), fill(",", '<img srcset="'),
      fill('srcset="a,'), fill("1", "&#"), fill("0", "&#x", "3a;"), fill("a", "", "://"), fill("http"), fill("<a"), fill(" ", "[x]("),
      fill("a.", "https://"), fill("/", "[x]("), fill("](javascript:"), fill("https://github.com@"), fill("&#58;/"), fill("www."), fill("\t", '<a href="https://github.com'),
    ];
    for (const text of nasty) {
      const started = performance.now();
      out(text, GITHUB_BODY_MAX);
      expect(performance.now() - started, text.slice(0, 20)).toBeLessThan(1_000);
    }
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
    "https://", "http:", "//", "www.", "github.com", "evil.example", "](", "]:", "href=", '"', ")", "(", ":", "&#58;", "_", "%2e",
  );
  const text = fc.array(fc.oneof({ weight: 4, arbitrary: fragment }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) }), { maxLength: 60 }).map((parts) => parts.join(""));

  it("never leaves an HTML comment opener, a command line, a mention, a link elsewhere, or more than the cap; and is stable", () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 40, max: 400 }), (input, maxChars) => {
        const result = sanitizeOutbound(input, { maxChars });
        expect(result).not.toContain("<!--");
        expect(STRICT_COMMAND_LINE.test(result)).toBe(false);
        expect(lenientCommand(result)).toBe(false);
        expect(MENTION.test(result)).toBe(false);
        expect(linksElsewhere(result)).toEqual([]);
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
