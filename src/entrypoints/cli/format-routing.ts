import type { ContextResult } from "../../app/build-context.ts";
import type { Route } from "../../core/ledger/task.ts";

export function formatRoute(id: number, route: Route): string {
  const lines = [`task ${id} → ${route.agent}${route.model ? ` (${route.model})` : ""}, profile ${route.profile}, ${route.complexity} complexity; decided by ${route.decidedBy}: ${route.reason}`];
  const c = route.classifier;
  if (c) {
    const cost = c.usage.costUsd === undefined ? "cost unknown (add router.classifier.pricePerMTok)" : `$${c.usage.costUsd.toFixed(6)}`;
    lines.push(`  classifier ${c.provider} ${c.model}: ${c.outcome}, ${c.calls} call${c.calls > 1 ? "s" : ""}, ${c.usage.inputTokens} in / ${c.usage.outputTokens} out tokens, ${cost}, ${c.durationMs} ms`);
  }
  return lines.join("\n");
}

export function formatManifest(r: ContextResult): string {
  const rows = r.plan.sections.map((s) => `  ${s.name.padEnd(11)} ${String(s.tokens).padStart(7)} ${String(s.capTokens).padStart(7)} ${String(s.fullTokens).padStart(8)}  ${s.dropped ? "left out" : s.cut ? "cut" : ""}`);
  return [
    `bundle   ${r.bundlePath}`,
    `manifest ${r.manifestPath}`,
    `profile ${r.profile}; ${r.plan.tokens} of ${r.plan.maxTokens} tokens; sha256 ${r.sha256}`,
    `  section      tokens     cap     full`,
    ...rows,
    ...r.plan.cuts.map((c) => `  - ${c}`),
  ].join("\n");
}
