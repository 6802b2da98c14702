import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModel } from "ai";
import type { Classifier } from "../../core/ports.ts";
import type { AiClassifierOptions } from "./ai-classifier.ts";
import { createAiClassifier } from "./ai-classifier.ts";

export interface ProviderSettings extends Omit<AiClassifierOptions, "model"> {
  provider: "anthropic" | "openai" | "openai-compatible";
  apiKey?: string;
  baseURL?: string;
}

/** The provider's model: Anthropic Messages, OpenAI Responses, or any chat-completions endpoint. */
function languageModel(s: ProviderSettings): LanguageModel {
  const common = { ...(s.apiKey ? { apiKey: s.apiKey } : {}), ...(s.baseURL ? { baseURL: s.baseURL } : {}) };
  switch (s.provider) {
    case "anthropic":
      return createAnthropic(common)(s.modelId);
    case "openai":
      return createOpenAI(common)(s.modelId);
    case "openai-compatible":
      return createOpenAICompatible({ name: "classifier", baseURL: s.baseURL ?? "", ...(s.apiKey ? { apiKey: s.apiKey } : {}), supportsStructuredOutputs: true })(s.modelId);
  }
}

export function buildAiClassifier(s: ProviderSettings): Classifier {
  return createAiClassifier({ ...s, model: languageModel(s) });
}
