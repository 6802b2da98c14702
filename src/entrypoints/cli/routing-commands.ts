import { join } from "node:path";
import type { Command } from "commander";
import { buildContextCommand } from "../../app/build-context.ts";
import { routeTaskCommand } from "../../app/route-task.ts";
import { classifierFromEnv } from "../../adapters/classifier-ai/classifier-from-env.ts";
import { formatConfigProblem } from "../../adapters/config-fs/load-config.ts";
import type { LoadedRouting } from "../../adapters/config-fs/load-routing.ts";
import { loadRouting } from "../../adapters/config-fs/load-routing.ts";
import { bundleWriter, repoFiles } from "../../adapters/context-fs/repo-files.ts";
import { git } from "../../adapters/ledger-git/run-git.ts";
import { newBoundary } from "../../adapters/system/system.ts";
import { RouterError } from "../../core/errors.ts";
import { buildCliContext, type CliContext } from "./build-deps.ts";
import { formatManifest, formatRoute } from "./format-routing.ts";
import { taskId } from "./task-id-arg.ts";
import type { CliIo } from "./program.ts";

async function validRouting(ctx: CliContext): Promise<LoadedRouting> {
  const routing = await loadRouting(ctx.root, ctx.loaded.config);
  const bad = routing.problems.filter((p) => p.severity === "error");
  if (bad.length > 0) throw new RouterError("E_CONFIG_INVALID", `profiles, routing rules or the classifier template are invalid:\n${bad.map((p) => `  ${formatConfigProblem(p)}`).join("\n")}`);
  return routing;
}

/** `route` and `context`. */
export function addRoutingCommands(program: Command, io: CliIo, where: (cmd: Command) => string, json: (value: unknown) => void): void {
  program
    .command("route")
    .description("decide and record which agent and profile run a task")
    .argument("<id>", "task id", taskId)
    .option("--explain", "print every step the decision tried")
    .option("--json", "print JSON")
    .action(async (id: number, o: { explain?: boolean; json?: boolean }, cmd: Command) => {
      const ctx = await buildCliContext(where(cmd));
      const routing = await validRouting(ctx);
      const setup = await classifierFromEnv(ctx.loaded.config.router.classifier, io.env, routing.classifierTemplate);
      const note = setup.classifier ? `classifier: ${setup.classifier.describe}` : `${setup.why}: rules and the fallback decide`;
      const r = await routeTaskCommand(ctx.deps, id, { config: ctx.loaded.config, profiles: routing.profiles, rules: routing.rules }, setup.classifier);
      if (o.json) return json({ ...r, note });
      io.out(formatRoute(id, r.route));
      if (!setup.classifier && r.wantsVerdict) io.out(`  note: ${note}`);
      if (o.explain) for (const step of [`note: ${note}`, ...r.trail]) io.out(`  - ${step}`);
    });

  program
    .command("context")
    .description("write a task's context bundle and print its manifest")
    .argument("<id>", "task id", taskId)
    .option("-o, --out <dir>", "write the bundle here (default: .git/agent-router/bundles)")
    .option("-p, --profile <name>", "use this profile instead of the task's routed one")
    .option("--json", "print the manifest as JSON")
    .action(async (id: number, o: { out?: string; profile?: string; json?: boolean }, cmd: Command) => {
      const ctx = await buildCliContext(where(cmd));
      const routing = await validRouting(ctx);
      const dir = o.out ?? join(await git(ctx.root, ["rev-parse", "--absolute-git-dir"]), "agent-router", "bundles");
      const r = await buildContextCommand(ctx.deps, id, {
        profiles: routing.profiles,
        repo: repoFiles(ctx.root),
        writer: bundleWriter(dir),
        boundary: newBoundary(),
        ...(o.profile ? { profileName: o.profile } : {}),
      });
      if (o.json) return json({ bundle: r.bundlePath, manifest: r.manifestPath, sha256: r.sha256, tokens: r.plan.tokens, maxTokens: r.plan.maxTokens, sections: r.plan.sections, cuts: r.plan.cuts });
      io.out(formatManifest(r));
    });
}
