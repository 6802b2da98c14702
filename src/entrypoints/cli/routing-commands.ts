import { join } from "node:path";
import type { Command } from "commander";
import { buildContextCommand } from "../../app/build-context.ts";
import { reconcile } from "../../app/reconcile.ts";
import { bundleWriter, repoFiles } from "../../adapters/context-fs/repo-files.ts";
import { git } from "../../adapters/ledger-git/run-git.ts";
import { newBoundary } from "../../adapters/system/system.ts";
import { buildCliContext, reconcileDepsOf, validRouting } from "./build-deps.ts";
import { formatManifest, formatRoute } from "./format-routing.ts";
import { taskId } from "./task-id-arg.ts";
import type { CliIo } from "./cli-io.ts";

/** `route` and `context`. */
export function addRoutingCommands(program: Command, io: CliIo, where: (cmd: Command) => string, json: (value: unknown) => void): void {
  program
    .command("route")
    .description("decide and record which agent and profile run a task")
    .argument("<id>", "task id", taskId)
    .option("--explain", "print every step the decision tried")
    .option("--json", "print JSON")
    .action(async (id: number, o: { explain?: boolean; json?: boolean }, cmd: Command) => {
      const ctx = await buildCliContext(where(cmd), { io });
      const deps = await reconcileDepsOf(ctx, io, { classifier: true });
      const note = deps.classifierNote;
      const rec = await reconcile({ kind: "cli", command: { verb: "route", taskId: id } }, deps);
      const decision = rec.decisions.get(id)!;
      const previous = rec.outcome.kind === "routed" ? rec.outcome.previous : undefined;
      const r = { taskId: id, ...decision, ...(previous ? { previous } : {}) };
      if (o.json) return json({ ...r, note });
      io.out(formatRoute(id, r.route));
      if (!deps.classifier && r.wantsVerdict) io.out(`  note: ${note}`);
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
        repo: repoFiles(ctx.root, { taskId: id }),
        writer: bundleWriter(dir),
        boundary: newBoundary(),
        ...(o.profile ? { profileName: o.profile } : {}),
      });
      if (o.json) return json({ bundle: r.bundlePath, manifest: r.manifestPath, sha256: r.sha256, tokens: r.plan.tokens, maxTokens: r.plan.maxTokens, sections: r.plan.sections, cuts: r.plan.cuts });
      io.out(formatManifest(r));
    });
}
