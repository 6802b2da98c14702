/**
 * List prices in USD per million tokens, for CLIs and APIs that report tokens but not cost. Keys are
 * model id prefixes; the longest matching prefix wins, so `gpt-5-mini` is not priced as `gpt-5`.
 * Dated ids (`claude-haiku-4-5-20251001`) match their family prefix.
 */
export const PRICES_PER_MTOK: Readonly<Record<string, { input: number; output: number }>> = {
  // Anthropic (claude CLI aliases included)
  "claude-haiku-4-5": { input: 1, output: 5 },
  "claude-3-5-haiku": { input: 0.8, output: 4 },
  haiku: { input: 1, output: 5 },
  "claude-sonnet-4": { input: 3, output: 15 },
  "claude-3-7-sonnet": { input: 3, output: 15 },
  sonnet: { input: 3, output: 15 },
  "claude-opus-4-5": { input: 5, output: 25 },
  "claude-opus-4-6": { input: 5, output: 25 },
  "claude-opus-4-1": { input: 15, output: 75 },
  "claude-opus-4-0": { input: 15, output: 75 },
  "claude-opus-4-2": { input: 15, output: 75 },
  opus: { input: 5, output: 25 },
  // OpenAI
  "gpt-5-nano": { input: 0.05, output: 0.4 },
  "gpt-5-mini": { input: 0.25, output: 2 },
  "gpt-5": { input: 1.25, output: 10 },
  "gpt-5-codex": { input: 1.25, output: 10 },
  "gpt-4.1-nano": { input: 0.1, output: 0.4 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "gpt-4.1": { input: 2, output: 8 },
  "gpt-4o-mini": { input: 0.15, output: 0.6 },
  "gpt-4o": { input: 2.5, output: 10 },
  "o4-mini": { input: 1.1, output: 4.4 },
  o3: { input: 2, output: 8 },
};

export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
}

/** The price entry for a model id (provider prefixes like `anthropic/` are ignored), or undefined. */
export function priceOf(model: string): { input: number; output: number } | undefined {
  const id = model.toLowerCase().replace(/^[\w-]+\//, "");
  let best: string | undefined;
  for (const prefix of Object.keys(PRICES_PER_MTOK)) {
    if ((id === prefix || id.startsWith(`${prefix}-`) || id.startsWith(`${prefix}.`)) && (best === undefined || prefix.length > best.length)) best = prefix;
  }
  return best === undefined ? undefined : PRICES_PER_MTOK[best];
}

/** Cost in USD, rounded to a millionth of a dollar; undefined when the model's price is unknown. */
export function priceUsage(model: string, usage: TokenCounts, override?: { input: number; output: number }): number | undefined {
  const price = override ?? priceOf(model);
  if (!price) return undefined;
  return Math.round(usage.inputTokens * price.input + usage.outputTokens * price.output) / 1e6;
}
