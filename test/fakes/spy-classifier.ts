// A Classifier that answers from a fixed outcome and records every task it was asked about.
import type { Classifier } from "../../src/core/ports.ts";
import type { ClassifierOutcome, RoutableTask } from "../../src/core/routing/decide-route.ts";

export function spyClassifier(outcome: ClassifierOutcome = { ok: true, agent: "codex", profile: "feature", complexity: "high", reason: "the spy says so" }): Classifier & { asked: RoutableTask[] } {
  const asked: RoutableTask[] = [];
  return {
    describe: "spy classifier",
    asked,
    classify: async (task) => {
      asked.push(task);
      return { outcome, call: { provider: "spy", model: "spy-1", usage: { inputTokens: 100, outputTokens: 20 }, calls: 1, durationMs: 5, outcome: outcome.ok ? "verdict" : "invalid" } };
    },
  };
}
