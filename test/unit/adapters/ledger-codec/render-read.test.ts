import fc from "fast-check";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { NotCanonical, readCanonical, readCanonicalItem } from "../../../../src/adapters/ledger-codec/read-yaml.ts";
import { renderSequenceItem, renderYaml } from "../../../../src/adapters/ledger-codec/render-yaml.ts";
import { decodeLedgerText } from "../../../../src/adapters/ledger-codec/ledger-text.ts";
import { INVISIBLE, jsonDocument, jsonLike } from "./arbitraries.ts";

/** Runs per property; CODEC_RUNS=… raises it for a longer hunt. */
const RUNS = Number(process.env.CODEC_RUNS ?? 2_500);
const TIMEOUT = Math.max(60_000, RUNS * 20);

function lines(text: string): string[] {
  const out = text.split("\n");
  if (out.at(-1) === "") out.pop();
  return out;
}

function read(text: string): unknown {
  return readCanonical(lines(text));
}

/** readCanonical's answer, or the NotCanonical it threw (any other error propagates). */
function tryRead(text: string): { value: unknown } | { notCanonical: NotCanonical } {
  try {
    return { value: read(text) };
  } catch (err) {
    if (err instanceof NotCanonical) return { notCanonical: err };
    throw err;
  }
}

describe("renderYaml → yaml / readCanonical round trip (property)", () => {
  it(`YAML.parse and readCanonical both give back the value, and nothing invisible is written raw (${RUNS} runs)`, () => {
    let fastReads = 0;
    let gaps = 0;
    fc.assert(
      fc.property(jsonDocument, (doc) => {
        const text = renderYaml(doc);
        expect(text.endsWith("\n")).toBe(true);
        expect(text).not.toMatch(INVISIBLE);
        expect(YAML.parse(text)).toEqual(doc);

        const got = tryRead(text);
        if ("value" in got) {
          // The fast reader must never disagree with the value it was written from.
          expect(got.value).toEqual(doc);
          fastReads++;
        } else {
          // The fast reader must read everything the writer writes.
          expect(got).toHaveProperty("value");
          gaps++;
        }
      }),
      { numRuns: RUNS },
    );
    expect(fastReads + gaps).toBe(RUNS);
    expect(fastReads).toBeGreaterThan(RUNS * 0.8);
  }, TIMEOUT);

  it(`rendering is a fixed point: render(parse(render(x))) === render(x) (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(jsonDocument, (doc) => {
        const text = renderYaml(doc);
        expect(renderYaml(YAML.parse(text) as Record<string, unknown>)).toBe(text);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it(`one sequence item renders and reads back on its own at any indent (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(jsonLike, fc.constantFrom(0, 2, 4), (item, indent) => {
        // renderSequenceItem returns a literal block as one entry with embedded newlines: re-split it.
        const itemLines = renderSequenceItem(item, " ".repeat(indent)).join("\n").split("\n");
        expect(itemLines[0]?.slice(0, indent + 1)).toBe(`${" ".repeat(indent)}-`);
        expect(YAML.parse(itemLines.join("\n"))).toEqual([item]);
        expect(readCanonicalItem(itemLines, 0, itemLines.length, indent)).toEqual(item);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it(`readCanonical never disagrees with yaml on edited text: it reads the same value or throws NotCanonical (${RUNS} runs)`, () => {
    const inserts = [" # c", "\n# c", "\n  # c", ": x", "&a ", "*a", "'", '"', "  ", " ", "\t", "- ", "-", "|", "|+", "|2", ">", "{", "[", "]", "? ", "!!str ", "\n", "\n\n", "x", ":", "\\", "---\n", "\u2028", "\u0085", "\r"];
    let agreed = 0;
    fc.assert(
      fc.property(jsonDocument, fc.constantFrom(...inserts), fc.nat(), (doc, insert, at) => {
        const base = renderYaml(doc);
        const pos = at % (base.length + 1);
        const text = base.slice(0, pos) + insert + base.slice(pos);
        const yamlDoc = YAML.parseDocument(text, { uniqueKeys: true });
        if (yamlDoc.errors.length > 0) return; // invalid YAML: the fast reader's answer does not matter
        const got = tryRead(text);
        if (!("value" in got)) return;
        expect(got.value).toEqual(yamlDoc.toJS({ maxAliasCount: 100 }));
        agreed++;
      }),
      { numRuns: RUNS },
    );
    expect(agreed).toBeGreaterThan(RUNS / 4);
  }, TIMEOUT);
});

describe("renderYaml scalar choices", () => {
  const cases: [string, unknown, string][] = [
    ["a plain word stays plain", "hello world", "v: hello world\n"],
    ["a path stays plain", "/a/b", "v: /a/b\n"],
    ["hex-looking text is quoted", "0x1F", 'v: "0x1F"\n'],
    ["exponent-looking text is quoted", "1e3", 'v: "1e3"\n'],
    ["boolean-looking text is quoted", "true", 'v: "true"\n'],
    ["tilde is quoted", "~", 'v: "~"\n'],
    ["a lone dash is quoted", "-", 'v: "-"\n'],
    ["dash-space is quoted", "- a", 'v: "- a"\n'],
    ["a pipe is quoted", "|", 'v: "|"\n'],
    ["': ' is quoted", "a: b", 'v: "a: b"\n'],
    ["' #' is quoted", "a #b", 'v: "a #b"\n'],
    ["a trailing space is quoted", "a ", 'v: "a "\n'],
    ["the empty string is quoted", "", 'v: ""\n'],
    ["a date stays a plain string (core schema has no timestamps)", "2001-12-14", "v: 2001-12-14\n"],
    ["multi-line text is a strip literal", "a\nb", "v: |-\n  a\n  b\n"],
    ["one trailing newline is a clip literal", "a\nb\n", "v: |\n  a\n  b\n"],
    ["two trailing newlines are quoted", "a\n\n", 'v: "a\\n\\n"\n'],
    ["CR is quoted and escaped", "a\r\nb", 'v: "a\\r\\nb"\n'],
    ["a leading space on line one is quoted", " a\nb", 'v: " a\\nb"\n'],
    ["zero-width space is escaped", "x\u200by", 'v: "x\\u200by"\n'],
    ["right-to-left override is escaped", "\u202eabc", 'v: "\\u202eabc"\n'],
    ["bidi text in a multi-line string is quoted, not a literal", "a\n\u202eb", 'v: "a\\n\\u202eb"\n'],
    ["an integer", 42, "v: 42\n"],
    ["a double", -1.5e-7, "v: -1.5e-7\n"],
    ["null", null, "v: null\n"],
    ["false", false, "v: false\n"],
    ["an empty list", [], "v: []\n"],
    ["an empty map", {}, "v: {}\n"],
  ];
  it.each(cases)("%s", (_name, value, expected) => {
    expect(renderYaml({ v: value })).toBe(expected);
    expect(YAML.parse(expected)).toEqual({ v: value });
    expect(read(expected)).toEqual({ v: value });
  });

  it("quotes keys that are not plain identifiers", () => {
    const doc = { "a b": 1, true: 2, "1": 3, "": 4, "-x": 5, é: 6, ok_key: 7 };
    const text = renderYaml(doc);
    expect(text).toBe('"1": 3\n"a b": 1\n"true": 2\n"": 4\n"-x": 5\n"é": 6\nok_key: 7\n');
    expect(YAML.parse(text)).toEqual(doc);
    expect(read(text)).toEqual(doc);
  });

  it("indents nested sequences under their key and sequence items' maps after the dash", () => {
    const text = renderYaml({ tasks: [{ id: 1, labels: ["a", "b"], body: "x\ny" }, [1, [2]], [], {}] });
    expect(text).toBe(
      ["tasks:", "  - id: 1", "    labels:", "      - a", "      - b", "    body: |-", "      x", "      y", "  -", "    - 1", "    -", "      - 2", "  - []", "  - {}", ""].join("\n"),
    );
  });

  it("skips undefined entries, and writes a map of only undefined values as {}", () => {
    const text = renderYaml({ a: undefined, b: { c: undefined }, d: [{ e: undefined }] });
    expect(text).toBe("b: {}\nd:\n  - {}\n");
  });

  it("refuses values that are not JSON-like", () => {
    expect(() => renderYaml({ a: Number.NaN })).toThrow(TypeError);
    expect(() => renderYaml({ a: Number.POSITIVE_INFINITY })).toThrow(TypeError);
    expect(() => renderYaml({ a: 1n })).toThrow(TypeError);
    expect(() => renderYaml({ a: () => 1 })).toThrow(TypeError);
  });

  it("writes -0 as 0 (the sign of zero is lost, as in JSON)", () => {
    const text = renderYaml({ z: -0, list: [-0] });
    expect(text).toBe("z: 0\nlist:\n  - 0\n");
    const parsed = YAML.parse(text) as { z: number; list: number[] };
    expect(Object.is(parsed.z, 0)).toBe(true);
    expect(Object.is((read(text) as { z: number }).z, 0)).toBe(true);
  });
});

describe("readCanonical refuses what it does not understand", () => {
  const notCanonical: [string, string][] = [
    ["a comment line", "a: 1\n# c\nb: 2\n"],
    ["an inline comment", "a: 1 # c\n"],
    ["a flow sequence", "a: [1, 2]\n"],
    ["a flow map", "a: {b: 1}\n"],
    ["an anchor and alias", "a: &x 1\nb: *x\n"],
    ["a single-quoted scalar", "a: 'x'\n"],
    ["a folded block scalar", "a: >\n  x\n"],
    ["a keep literal with an indentation indicator it reads wrong if guessed", "a: |2+\n   x\n"],
    ["a tag", "a: !!str 1\n"],
    ["tab indentation", "a:\n\tb: 1\n"],
    ["a blank line between entries", "a: 1\n\nb: 2\n"],
    ["a duplicate key", "a: 1\na: 2\n"],
    ["a multi-line double-quoted scalar", 'a: "x\n  y"\n'],
    ["a YAML-only escape", 'a: "\\x41"\n'],
    ["a document marker", "---\na: 1\n"],
    ["a mapping in a plain scalar", "a: b: c\n"],
    ["an explicit key", "? a\n: 1\n"],
  ];
  it.each(notCanonical)("%s", (_name, text) => {
    const got = tryRead(text);
    if ("value" in got) {
      // Whatever it reads must be what yaml reads.
      expect(got.value).toEqual(YAML.parse(text, { uniqueKeys: false }));
    } else {
      expect(got.notCanonical).toBeInstanceOf(NotCanonical);
    }
  });

  it("throws NotCanonical (not a wrong value) for comments, flow style, anchors, tags, tabs, blanks, duplicates", () => {
    for (const [, text] of notCanonical.filter(([n]) => !n.startsWith("a keep literal"))) {
      expect(() => read(text), text).toThrow(NotCanonical);
    }
  });

  it("reads literal blocks (clip, strip, keep, indentation indicator, leading blank line) as yaml does", () => {
    for (const text of ["a: |\n  x\n  y\nb: 1\n", "a: |-\n  x\n\n  y\nb: 1\n", "a: |+\n  x\n\nb: 1\n", "a: |2\n    x\n  y\n", "a: |\n\n  x\n", "a:\n  - |-\n      x\n  - y\n"]) {
      expect(read(text), text).toEqual(YAML.parse(text));
    }
    // A literal in a sequence item indented only to the item's content column is valid YAML the
    // writer never produces; the fast reader refuses it rather than guessing.
    expect(() => read("a:\n  - |-\n    x\n  - y\n")).toThrow(NotCanonical);
  });
});

describe("regressions: inputs the fast reader once misread", () => {
  it("extra whitespace after `key:` or `- ` leaves the canonical subset, so yaml reads it", () => {
    const text = "nextId:  5\ntitle: \tFix it\nlabels:\n  -  x\n";
    expect(YAML.parse(text)).toEqual({ nextId: 5, title: "Fix it", labels: ["x"] });
    const got = tryRead(text);
    expect("value" in got ? got.value : YAML.parse(text)).toEqual({ nextId: 5, title: "Fix it", labels: ["x"] });
  });

  it("a tab in a plain value (a trailing tab, a tab-separated comment) leaves the canonical subset", () => {
    const text = "nextId: 5\t\nstatus: done\t# was running\n";
    expect(YAML.parse(text)).toEqual({ nextId: 5, status: "done" });
    const got = tryRead(text);
    expect("value" in got ? got.value : YAML.parse(text)).toEqual({ nextId: 5, status: "done" });
  });

  it("plain keys that resolve to null or booleans leave the canonical subset", () => {
    const text = "null: 1\nTrue: 2\n";
    expect(YAML.parse(text)).toEqual({ "": 1, true: 2 });
    const got = tryRead(text);
    expect("value" in got ? got.value : YAML.parse(text)).toEqual({ "": 1, true: 2 });
  });

  it("a CR after a plain sequence item leaves the canonical subset (found by the edited-text property)", () => {
    const text = "A:\n  -\n    - true\r\n    - null\n";
    expect(YAML.parse(text)).toEqual({ A: [[true, null]] });
    expect(() => read(text)).toThrow(NotCanonical);
  });

  it("a CRLF line inside a literal block leaves the canonical subset", () => {
    const text = "a: |-\n  x\r\n  y\n";
    expect(YAML.parse(text)).toEqual({ a: "x\ny" });
    const got = tryRead(text);
    expect("value" in got ? got.value : YAML.parse(text)).toEqual({ a: "x\ny" });
  });

  it("a tab-only line inside a literal block is refused, as yaml refuses it", () => {
    const text = "a: |-\n  x\n\t\n  y\n";
    expect(YAML.parseDocument(text).errors.length).toBeGreaterThan(0);
    expect(() => read(text)).toThrow(NotCanonical);
  });

  it("renderYaml({}) writes {}", () => {
    const text = renderYaml({});
    expect(YAML.parse(text)).toEqual({});
  });

  it("a mapping value holding U+2028 is written escaped and read back fast", () => {
    const text = renderYaml({ a: "x\u2028y" });
    expect(text).toBe('a: "x\\u2028y"\n');
    expect(read(text)).toEqual({ a: "x\u2028y" });
  });

  it("the writer's literal block with a line starting with a tab is read back fast", () => {
    const text = renderYaml({ a: "x\n\ty" });
    expect(text).toBe("a: |-\n  x\n  \ty\n");
    expect(YAML.parse(text)).toEqual({ a: "x\n\ty" });
    expect(read(text)).toEqual({ a: "x\n\ty" });
  });

  it("an own __proto__ key leaves the fast reader (which would set the prototype) and stays an own key", () => {
    const doc = JSON.parse('{"__proto__": {"x": 1}, "b": 2}') as Record<string, unknown>;
    const text = renderYaml(doc);
    expect(text).toBe("__proto__:\n  x: 1\nb: 2\n");
    expect(YAML.parse(text)).toEqual(doc); // yaml keeps it as an own key
    expect(() => read(text)).toThrow(NotCanonical);
    expect(Object.keys(decodeLedgerText(text).raw as object)).toEqual(["__proto__", "b"]);
  });

  it("U+2028, U+2029 and U+0085 are escaped inside double quotes like the other invisibles", () => {
    const text = renderYaml({ a: "x\u2028y", b: "x\u2029y", c: "x\u0085y" });
    expect(text).toBe('a: "x\\u2028y"\nb: "x\\u2029y"\nc: "x\\u0085y"\n');
    expect(YAML.parse(text)).toEqual({ a: "x\u2028y", b: "x\u2029y", c: "x\u0085y" });
  });
});
