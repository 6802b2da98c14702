// Redaction of secrets before anything reaches the published ledger, a commit or a log: token shapes,
// credentials after a scheme, and the exact values of the secret-named variables in the environment.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { makeRedactor, MIN_SECRET_LENGTH, REDACTED, redactDeep, redactTokens, secretValuesOf } from "../../../src/core/secrets/redact.ts";

const GH = `ghp_${"a1B2".repeat(9)}`;
const ANTHROPIC = `sk-ant-api03-${"x9".repeat(20)}`;
const OPENAI = `sk-proj-${"Q7".repeat(16)}`;
const AWS = "AKIAIOSFODNN7EXAMPLE";

describe("redactTokens", () => {
  it.each([
    ["GitHub classic", GH],
    ["GitHub fine-grained", `github_pat_11ABCDEFG0${"z".repeat(30)}`],
    ["Anthropic", ANTHROPIC],
    ["OpenAI", OPENAI],
    ["AWS access key id", AWS],
    ["Slack", "xoxb-1234567890-abcdefghij"],
    ["JWT", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"],
  ])("removes a %s token, also glued to a word", (_name, token) => {
    expect(redactTokens(`key=${token} end`)).toBe(`key=${REDACTED} end`);
    expect(redactTokens(`MY_TOKEN_${token}`)).not.toContain(token);
  });

  it("removes a bearer or basic credential and the value of a secret assignment, keeping the scheme", () => {
    expect(redactTokens("Authorization: Bearer abcdefghijklmnop0123456789")).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(redactTokens("curl -H 'Authorization: token 0123456789abcdef0123'")).toBe(`curl -H 'Authorization: token ${REDACTED}'`);
    expect(redactTokens("Basic dXNlcjpwYXNzd29yZDEyMzQ1Ng==")).toBe(`Basic ${REDACTED}`);
    expect(redactTokens("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")).toBe(`aws_secret_access_key = ${REDACTED}`);
  });

  it("removes a PEM private key block whole, even one cut off", () => {
    const pem = `-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA${"q".repeat(60)}\n-----END RSA PRIVATE KEY-----`;
    expect(redactTokens(`before\n${pem}\nafter`)).toBe(`before\n${REDACTED}\nafter`);
    expect(redactTokens(`x ${pem.slice(0, 60)}`)).toBe(`x ${REDACTED}`);
  });

  it("leaves ordinary prose and code alone", () => {
    const prose = "The risk-assessment task: use a basic approach, bearer of bad news; ask-ant-colonies; sk-short.";
    expect(redactTokens(prose)).toBe(prose);
  });
});

describe("secretValuesOf", () => {
  it("takes the values of secret-named variables only, and only long enough ones", () => {
    const values = secretValuesOf({
      GITHUB_TOKEN: "gho_plainvalue123456",
      ANTHROPIC_API_KEY: "anthropic-canary-value",
      MY_SERVICE_PASSWORD: "hunter2hunter2",
      AWS_SECRET_ACCESS_KEY: "aws-secret-canary",
      DEPLOY_KEY: "deploy-key-canary",
      NPM_AUTH_TOKEN: "npm-canary-token",
      SHORT_TOKEN: "1234567",
      HOME: "/home/someone-with-a-long-path",
      MONKEY: "bananas-and-more",
      KEY_ID: "not-a-secret-id",
      PATH: "/usr/bin:/bin",
      EMPTY_SECRET: undefined,
    });
    expect(values.sort()).toEqual(["anthropic-canary-value", "aws-secret-canary", "deploy-key-canary", "gho_plainvalue123456", "hunter2hunter2", "npm-canary-token"].sort());
    expect(MIN_SECRET_LENGTH).toBe(8);
  });

  it("adds each long line of a multi-line value (a PEM key re-wrapped in output still loses its lines)", () => {
    const pem = "-----BEGIN PRIVATE KEY-----\nAAAABBBBCCCCDDDDEEEEFFFF1111\nshort\n-----END PRIVATE KEY-----";
    const values = secretValuesOf({ APP_PRIVATE_KEY: pem });
    expect(values).toContain(pem);
    expect(values).toContain("AAAABBBBCCCCDDDDEEEEFFFF1111");
    expect(values).not.toContain("short");
  });
});

describe("makeRedactor", () => {
  it("removes the exact values, longest first, wherever they appear", () => {
    const redact = makeRedactor(["canary-secret-one", "canary-secret-one-longer", "x"]);
    expect(redact("a canary-secret-one-longer b canary-secret-one c x")).toBe(`a ${REDACTED} b ${REDACTED} c x`);
    expect(redact("url https://user:canary-secret-one@example.com")).toBe(`url https://user:${REDACTED}@example.com`);
  });

  it("treats values as text, not patterns", () => {
    const redact = makeRedactor(["a.b*c+d?(e)[f]"]);
    expect(redact("see a.b*c+d?(e)[f] and aXbbbcd")).toBe(`see ${REDACTED} and aXbbbcd`);
  });

  it("never leaves a value in the output (random values in random text)", () => {
    const value = fc.string({ minLength: MIN_SECRET_LENGTH, maxLength: 40 }).filter((v) => v.trim() === v && v.length >= MIN_SECRET_LENGTH);
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 4 }), fc.array(fc.string(), { maxLength: 6 }), (values, parts) => {
        const redact = makeRedactor(values);
        const text = parts.flatMap((p, i) => [p, values[i % values.length]!]).join("");
        const out = redact(text);
        for (const v of values) expect(out.includes(v) && !REDACTED.includes(v)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe("redactDeep", () => {
  it("redacts every string in nested objects and arrays, keeps other values, and returns the same object when nothing changed", () => {
    const redact = makeRedactor(["canary-secret-value"]);
    const value = { kind: "ran", n: 3, ok: true, none: null, handoff: { summary: "printed canary-secret-value", list: ["canary-secret-value", 7] } };
    const out = redactDeep(value, redact);
    expect(out).toEqual({ kind: "ran", n: 3, ok: true, none: null, handoff: { summary: `printed ${REDACTED}`, list: [REDACTED, 7] } });
    expect(value.handoff.summary).toBe("printed canary-secret-value");
    const clean = { a: ["b", { c: "d" }] };
    expect(redactDeep(clean, redact)).toBe(clean);
  });
});
