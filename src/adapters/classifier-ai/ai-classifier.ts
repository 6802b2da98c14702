import type { LanguageModel, LanguageModelUsage, ModelMessage } from "ai";
import { generateText, NoObjectGeneratedError, Output, RetryError } from "ai";
import type { ClassifierCall } from "../../core/ledger/task.ts";
import type { Classification, Classifier } from "../../core/ports.ts";
import { priceUsage } from "../../core/pricing/price-usage.ts";
import { renderClassifierPrompt } from "../../core/routing/classifier-prompt.ts";
import type { ClassifierOutcome, RoutableTask, RoutingSetup } from "../../core/routing/decide-route.ts";
import { checkVerdict, parseVerdictText, verdictChoices, verdictSchema } from "../../core/routing/verdict.ts";

export interface AiClassifierOptions {
  model: LanguageModel;
  provider: string;
  modelId: string;
  /** The prompt template (router/classifier.md or the repository's own). */
  template: string;
  timeoutMs: number;
  /** A fresh random boundary per call (32+ hex digits). */
  newBoundary: () => string;
  pricePerMTok?: { input: number; output: number };
  /** Milliseconds since some origin, for the call's duration. */
  now?: () => number;
}

type Answer = { outcome: ClassifierOutcome; text: string | undefined; usage: LanguageModelUsage | undefined; failed?: "error" | "timeout" };

function describeError(err: unknown): string {
  // With retries off the SDK throws the APICallError itself; a RetryError (should retries ever be
  // on) carries the HTTP status on the last error it wraps.
  const e = (RetryError.isInstance(err) ? err.lastError : err) as { name?: string; message?: string; statusCode?: number };
  const status = e.statusCode ? ` (HTTP ${e.statusCode})` : "";
  return `${e.name ?? "Error"}${status}: ${(e.message ?? String(err)).split("\n")[0]?.slice(0, 200)}`;
}

/** Generous for a four-key JSON object; keeps a rambling model from running up the bill. */
const MAX_OUTPUT_TOKENS = 500;

/**
 * The SDK's own retries are off: each `ask` is exactly one HTTP request, so `calls` on the route
 * counts every request that was made (and paid for). The repair round is the only retry; an API
 * error or a 429 goes to the fallback route at once instead of waiting out the SDK's backoff.
 */
const SDK_RETRIES = 0;

/**
 * The classifier on the AI SDK: structured output against an enum schema built from the enabled
 * agents and known profiles. An answer that is not a valid verdict gets one repair round (the
 * model sees its answer and what was wrong); after that, or on an API error or timeout, the outcome
 * is "no verdict" with the reason, and routing falls back. Usage of both calls is recorded.
 */
export function createAiClassifier(opts: AiClassifierOptions): Classifier {
  const now = opts.now ?? (() => performance.now());
  return {
    describe: `${opts.provider} ${opts.modelId}`,
    async classify(task: RoutableTask, setup: RoutingSetup): Promise<Classification> {
      const choices = verdictChoices(setup);
      const schema = verdictSchema(choices);
      const prompt = renderClassifierPrompt({ template: opts.template, choices, profiles: setup.profiles, task, boundary: opts.newBoundary() });
      const signal = AbortSignal.timeout(opts.timeoutMs);
      const started = now();

      const ask = async (messages: ModelMessage[]): Promise<Answer> => {
        let result;
        try {
          result = await generateText({ model: opts.model, output: Output.object({ schema, name: "route_verdict" }), messages, abortSignal: signal, maxRetries: SDK_RETRIES, temperature: 0, maxOutputTokens: MAX_OUTPUT_TOKENS });
        } catch (err) {
          if (NoObjectGeneratedError.isInstance(err)) return { outcome: parseVerdictText(err.text ?? "", choices), text: err.text, usage: err.usage };
          if (signal.aborted) return { outcome: { ok: false, reason: `classifier timed out after ${opts.timeoutMs} ms` }, text: undefined, usage: undefined, failed: "timeout" };
          return { outcome: { ok: false, reason: `classifier call failed: ${describeError(err)}` }, text: undefined, usage: undefined, failed: "error" };
        }
        // The SDK parses the output lazily and throws when there is none (an empty or cut-off answer);
        // the call still happened and its tokens count.
        try {
          return { outcome: checkVerdict(result.output, choices), text: result.text, usage: result.usage };
        } catch {
          const outcome = result.text.trim() === "" ? { ok: false as const, reason: `empty answer (finish reason ${result.finishReason})` } : parseVerdictText(result.text, choices);
          return { outcome, text: result.text, usage: result.usage };
        }
      };

      const first: ModelMessage[] = [{ role: "user", content: prompt }];
      const answers = [await ask(first)];
      const firstAnswer = answers[0]!;
      if (!firstAnswer.outcome.ok && !firstAnswer.failed) {
        const problem = `That answer is not valid: ${firstAnswer.outcome.reason}. Reply with only the JSON object, using exactly the keys agent, profile, complexity and reason, and only the names listed above.`;
        // Some APIs refuse an empty assistant turn, so an empty answer is not echoed back.
        const echo: ModelMessage[] = firstAnswer.text?.trim() ? [{ role: "assistant", content: firstAnswer.text }] : [];
        answers.push(await ask([...first, ...echo, { role: "user", content: problem }]));
      }
      const last = answers[answers.length - 1]!;
      const outcome: ClassifierOutcome = last.outcome.ok || answers.length === 1 ? last.outcome : { ok: false, reason: `${last.outcome.reason}, after one repair round` };

      const inputTokens = answers.reduce((n, a) => n + (a.usage?.inputTokens ?? 0), 0);
      const outputTokens = answers.reduce((n, a) => n + (a.usage?.outputTokens ?? 0), 0);
      const costUsd = priceUsage(opts.modelId, { inputTokens, outputTokens }, opts.pricePerMTok);
      const call: ClassifierCall = {
        provider: opts.provider,
        model: opts.modelId,
        usage: { inputTokens, outputTokens, ...(costUsd === undefined ? {} : { costUsd }) },
        calls: answers.length,
        durationMs: Math.max(0, Math.round(now() - started)),
        outcome: outcome.ok ? "verdict" : (last.failed ?? "invalid"),
      };
      return { outcome, call };
    },
  };
}
