import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { estimateTokens, truncateToTokens } from "../../../../src/core/context/tokens.ts";

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/** Strings of every shape: ASCII, full Unicode (surrogate pairs), graphemes, raw UTF-16 code units (lone surrogates), lines. */
const anyText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 400 }),
  fc.string({ unit: "binary-ascii", maxLength: 400 }),
  fc.string({ unit: "grapheme", maxLength: 200 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 300 }),
  fc.array(fc.oneof(fc.string({ unit: "binary-ascii", maxLength: 300 }), fc.constantFrom("\n", "😀", "日本語", "é")), { maxLength: 40 }).map((a) => a.join("")),
);

/** Whether the prefix `text.slice(0, end)` ends between the two halves of a surrogate pair. */
function splitsPair(text: string, end: number): boolean {
  return end > 0 && end < text.length && isHigh(text.charCodeAt(end - 1)) && isLow(text.charCodeAt(end));
}

/** Length in code units of the code point at `i`. */
function codePointLength(text: string, i: number): number {
  return isHigh(text.charCodeAt(i)) && isLow(text.charCodeAt(i + 1)) ? 2 : 1;
}

describe("estimateTokens", () => {
  it.each([
    ["", 0],
    ["a", 1],
    ["abcd", 1],
    ["abcde", 2],
    ["x".repeat(400), 100],
    ["x".repeat(401), 101],
    ["é", 1],
    ["日本語", 3],
    ["😀", 1], // one code point, two UTF-16 units
    ["😀😀 ok", 3], // 2 code points + ceil(3/4)
    ["\n\n\n\n\n", 2],
    ["abc日", 2],
  ])("estimateTokens(%j) = %i", (text, tokens) => {
    expect(estimateTokens(text)).toBe(tokens);
  });

  it("the estimate of a concatenation is at most the sum of the estimates", () => {
    fc.assert(
      fc.property(anyText, anyText, (a, b) => {
        expect(estimateTokens(a + b)).toBeLessThanOrEqual(estimateTokens(a) + estimateTokens(b));
      }),
      { numRuns: 2000 },
    );
  });

  it("the estimate grows with the prefix", () => {
    fc.assert(
      fc.property(anyText, fc.nat(), (text, at) => {
        const cut = at % (text.length + 1);
        expect(estimateTokens(text.slice(0, cut))).toBeLessThanOrEqual(estimateTokens(text));
      }),
      { numRuns: 1000 },
    );
  });

  it("is never below a quarter token per code point, nor above one per code unit (well-formed text)", () => {
    const wellFormed = fc.oneof(fc.string({ unit: "binary", maxLength: 400 }), fc.string({ unit: "grapheme", maxLength: 200 }));
    fc.assert(
      fc.property(wellFormed, (text) => {
        expect(estimateTokens(text)).toBeGreaterThanOrEqual(Math.ceil([...text].length / 4));
        expect(estimateTokens(text)).toBeLessThanOrEqual(text.length);
      }),
    );
  });
});

// Regression (was a bug, fixed): a lone low surrogate counts 0 tokens, yet it is written to the UTF-8 bundle file as
// U+FFFD, which counts 1. A body of 20,000 lone low surrogates "fits" any budget.
it("counts a lone low surrogate like the U+FFFD it becomes in a UTF-8 file", () => {
  const text = "\uDC00".repeat(100);
  const asWritten = Buffer.from(text, "utf8").toString("utf8");
  expect(asWritten).toBe("\uFFFD".repeat(100));
  expect(estimateTokens(text)).toBe(estimateTokens(asWritten));
});

describe("truncateToTokens", () => {
  it("returns text that fits unchanged", () => {
    expect(truncateToTokens("hello world", 3)).toEqual({ text: "hello world", cut: false });
    expect(truncateToTokens("", 0)).toEqual({ text: "", cut: false });
  });

  it("returns nothing for a budget of zero or less", () => {
    expect(truncateToTokens("hello", 0)).toEqual({ text: "", cut: true });
    expect(truncateToTokens("hello", -5)).toEqual({ text: "", cut: true });
  });

  it("cuts at a line end when one is near", () => {
    const text = `first line\nsecond line\n${"x".repeat(100)}`;
    expect(truncateToTokens(text, 10)).toEqual({ text: "first line\nsecond line", cut: true });
  });

  it("cuts mid-line when the last line end is far back", () => {
    const text = `head\n${"y".repeat(1000)}`;
    const r = truncateToTokens(text, 100);
    expect(r.cut).toBe(true);
    expect(r.text).toBe(`head\n${"y".repeat(395)}`); // 400 ASCII characters = 100 tokens
  });

  it("never splits a surrogate pair", () => {
    expect(truncateToTokens("😀😀😀", 2)).toEqual({ text: "😀😀", cut: true });
    expect(truncateToTokens("ab😀cd", 1)).toEqual({ text: "ab", cut: true });
    expect(truncateToTokens("abcd😀", 1)).toEqual({ text: "abcd", cut: true });
  });

  it("returns a prefix that fits, cut exactly when the text did not fit, never splitting a pair", () => {
    fc.assert(
      fc.property(anyText, fc.integer({ min: -2, max: 150 }), (text, tokens) => {
        const r = truncateToTokens(text, tokens);
        expect(text.startsWith(r.text)).toBe(true);
        expect(r.cut).toBe(estimateTokens(text) > tokens);
        if (!r.cut) expect(r.text).toBe(text);
        expect(estimateTokens(r.text)).toBeLessThanOrEqual(Math.max(0, tokens));
        expect(splitsPair(text, r.text.length)).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it("keeps as much as fits: unless it stopped at a line end, one more code point would not fit", () => {
    const wellFormed = fc.oneof(fc.string({ unit: "binary", maxLength: 400 }), fc.string({ unit: "grapheme", maxLength: 200 }), fc.string({ unit: "binary-ascii", maxLength: 800 }));
    fc.assert(
      fc.property(wellFormed, fc.integer({ min: 1, max: 150 }), (text, tokens) => {
        const r = truncateToTokens(text, tokens);
        if (!r.cut) return;
        const end = r.text.length;
        if (text[end] === "\n") return; // cut at a line end on purpose
        expect(estimateTokens(text.slice(0, end + codePointLength(text, end)))).toBeGreaterThan(tokens);
      }),
      { numRuns: 2000 },
    );
  });
});
