import type { MainConfig } from "../../core/config/main-config.ts";
import { newBoundary } from "../system/system.ts";
import type { Classifier } from "../../core/ports.ts";

type ClassifierConfig = NonNullable<MainConfig["router"]["classifier"]>;

/** A classifier ready to call, or why there is none (then rules and the fallback decide). */
export type ClassifierSetup = { classifier: Classifier; why?: undefined } | { classifier: null; why: string };

const DEFAULT_KEY_ENV: Record<ClassifierConfig["provider"], string> = {
  anthropic: "ANTHROPIC_API_KEY",
  openai: "OPENAI_API_KEY",
  "openai-compatible": "AGENT_ROUTER_CLASSIFIER_API_KEY",
};
const DEFAULT_BASE_URL_ENV: Record<ClassifierConfig["provider"], string> = {
  anthropic: "ANTHROPIC_BASE_URL",
  openai: "OPENAI_BASE_URL",
  "openai-compatible": "AGENT_ROUTER_CLASSIFIER_BASE_URL",
};

/**
 * Builds the classifier from `router.classifier` and the environment (passed in, never read here
 * from `process.env`). Without a config, or without a key (an OpenAI-compatible endpoint with a
 * base URL needs none), the answer says why, in words `agent-router route` prints. The AI SDK is
 * loaded only when a classifier is actually built.
 */
export async function classifierFromEnv(config: ClassifierConfig | undefined, env: Readonly<Record<string, string | undefined>>, template: string): Promise<ClassifierSetup> {
  if (!config) return { classifier: null, why: "no classifier configured (router.classifier in .github/agent-router.yml)" };
  const keyEnv = config.apiKeyEnv ?? DEFAULT_KEY_ENV[config.provider];
  const apiKey = env[keyEnv] || undefined;
  const baseURL = config.baseURL ?? (env[DEFAULT_BASE_URL_ENV[config.provider]] || undefined);
  if (config.provider === "openai-compatible" && !baseURL) {
    return { classifier: null, why: `no base URL for the openai-compatible classifier: set router.classifier.baseURL or ${DEFAULT_BASE_URL_ENV[config.provider]}` };
  }
  if (!apiKey && config.provider !== "openai-compatible") return { classifier: null, why: `no API key: ${keyEnv} is not set` };
  const { buildAiClassifier } = await import("./build-ai-classifier.ts");
  const classifier = buildAiClassifier({
    provider: config.provider,
    modelId: config.model,
    ...(apiKey ? { apiKey } : {}),
    ...(baseURL ? { baseURL } : {}),
    template,
    timeoutMs: config.timeoutSeconds * 1000,
    newBoundary,
    ...(config.pricePerMTok ? { pricePerMTok: config.pricePerMTok } : {}),
  });
  return { classifier };
}
