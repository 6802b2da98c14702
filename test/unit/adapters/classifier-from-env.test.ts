import nock from "nock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifierFromEnv } from "../../../src/adapters/classifier-ai/classifier-from-env.ts";
import { BUILTIN_CLASSIFIER_TEMPLATE } from "../../../src/adapters/config-fs/builtin-data.generated.ts";
import { MainConfig } from "../../../src/core/config/main-config.ts";

beforeAll(() => nock.disableNetConnect());
afterAll(() => nock.enableNetConnect());

const classifierConfig = (c: object) => MainConfig.parse({ router: { classifier: c } }).router.classifier;

async function setupFor(c: object | undefined, env: Record<string, string | undefined>) {
  return classifierFromEnv(c === undefined ? undefined : classifierConfig(c), env, BUILTIN_CLASSIFIER_TEMPLATE);
}

describe("classifierFromEnv", () => {
  it("without router.classifier there is none, and it says where to configure one", async () => {
    expect(MainConfig.parse({}).router.classifier).toBeUndefined();
    const r = await setupFor(undefined, { ANTHROPIC_API_KEY: "sk-test" });
    expect(r).toEqual({ classifier: null, why: "no classifier configured (router.classifier in .github/agent-router.yml)" });
  });

  it("anthropic without ANTHROPIC_API_KEY: none, naming the variable (an empty value counts as unset)", async () => {
    const cfg = { provider: "anthropic", model: "claude-haiku-4-5" };
    expect(await setupFor(cfg, {})).toEqual({ classifier: null, why: "no API key: ANTHROPIC_API_KEY is not set" });
    expect(await setupFor(cfg, { ANTHROPIC_API_KEY: "" })).toEqual({ classifier: null, why: "no API key: ANTHROPIC_API_KEY is not set" });
    expect(await setupFor(cfg, { OPENAI_API_KEY: "sk-other" })).toEqual({ classifier: null, why: "no API key: ANTHROPIC_API_KEY is not set" });
    const ok = await setupFor(cfg, { ANTHROPIC_API_KEY: "sk-test" });
    expect(ok.why).toBeUndefined();
    expect(ok.classifier?.describe).toBe("anthropic claude-haiku-4-5");
  });

  it("openai without OPENAI_API_KEY: none, naming the variable", async () => {
    expect(await setupFor({ provider: "openai", model: "gpt-4o-mini" }, { ANTHROPIC_API_KEY: "sk-test" })).toEqual({ classifier: null, why: "no API key: OPENAI_API_KEY is not set" });
  });

  it("apiKeyEnv replaces the default variable", async () => {
    const cfg = { provider: "openai", model: "gpt-4o-mini", apiKeyEnv: "ROUTER_OPENAI_KEY" };
    expect(await setupFor(cfg, { OPENAI_API_KEY: "sk-default" })).toEqual({ classifier: null, why: "no API key: ROUTER_OPENAI_KEY is not set" });
    const ok = await setupFor(cfg, { ROUTER_OPENAI_KEY: "sk-own" });
    expect(ok.why).toBeUndefined();
    expect(ok.classifier?.describe).toBe("openai gpt-4o-mini");
  });

  it("openai-compatible without a base URL: none, naming AGENT_ROUTER_CLASSIFIER_BASE_URL", async () => {
    const r = await setupFor({ provider: "openai-compatible", model: "llama-3.1-8b" }, { AGENT_ROUTER_CLASSIFIER_API_KEY: "k", OPENAI_BASE_URL: "http://127.0.0.1:9/v1" });
    expect(r.classifier).toBeNull();
    expect(r.why).toBe("no base URL for the openai-compatible classifier: set router.classifier.baseURL or AGENT_ROUTER_CLASSIFIER_BASE_URL");
  });

  it("openai-compatible with a base URL (config or environment) and no key: a classifier", async () => {
    const fromEnv = await setupFor({ provider: "openai-compatible", model: "llama-3.1-8b" }, { AGENT_ROUTER_CLASSIFIER_BASE_URL: "http://127.0.0.1:9/v1" });
    expect(fromEnv.why).toBeUndefined();
    expect(fromEnv.classifier?.describe).toBe("openai-compatible llama-3.1-8b");
    expect(typeof fromEnv.classifier?.classify).toBe("function");
    const fromConfig = await setupFor({ provider: "openai-compatible", model: "qwen2.5", baseURL: "http://127.0.0.1:9/v1" }, {});
    expect(fromConfig.classifier?.describe).toBe("openai-compatible qwen2.5");
  });

  it("the config refuses an apiKeyEnv that is not a variable name", () => {
    expect(() => classifierConfig({ provider: "anthropic", model: "m", apiKeyEnv: "sk-ant-123" })).toThrow(/environment variable name/);
  });
});
