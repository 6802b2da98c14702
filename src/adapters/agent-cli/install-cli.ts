import { spawn } from "node:child_process";
import { access, mkdir, rename, rm } from "node:fs/promises";
import { delimiter, join } from "node:path";
import type { PinnedCli } from "../../core/agents/pinned-clis.ts";
import { PINNED_CLIS } from "../../core/agents/pinned-clis.ts";
import { RouterError } from "../../core/errors.ts";

type Env = Readonly<Record<string, string | undefined>>;

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The folder on PATH that holds `bin`, if any. */
async function onPath(bin: string, path: string | undefined): Promise<string | null> {
  for (const dir of (path ?? "").split(delimiter)) if (dir !== "" && (await exists(join(dir, bin)))) return dir;
  return null;
}

function npm(args: string[], cwd: string, env: Env, timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", args, { cwd, env: { ...env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (d: Buffer) => void (output = (output + d.toString("utf8")).slice(-4000));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new RouterError("E_USAGE", `could not run npm: ${err.message}`, {}, { fix: "Put Node.js and npm on the runner (actions/setup-node), or install the agent's CLI in an earlier step." }));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, output });
    });
  });
}

/**
 * Makes the pinned CLI of a built-in agent runnable: the PATH to give the agent, with the CLI's
 * folder first when it had to be installed. A CLI already on PATH is used as it is (a workflow
 * may install its own). Installs with npm into `cacheDir/<bin>-<version>` (the runner's tool
 * cache survives between jobs on self-hosted runners), through a temporary folder renamed into
 * place, so an interrupted install is never taken for a finished one. Other agents (commands)
 * need nothing.
 */
export async function ensureAgentCli(agent: string, env: Env, cacheDir: string, opts: { timeoutMs?: number; clis?: readonly PinnedCli[] } = {}): Promise<{ path: string | undefined; installed: boolean }> {
  const pin = (opts.clis ?? PINNED_CLIS).find((c) => c.agent === agent);
  if (!pin || (await onPath(pin.bin, env["PATH"])) !== null) return { path: env["PATH"], installed: false };
  const dir = join(cacheDir, `${pin.bin}-${pin.version}`);
  const bin = join(dir, "node_modules", ".bin");
  const withBin = [bin, env["PATH"]].filter((p) => p !== undefined && p !== "").join(delimiter);
  if (await exists(join(bin, pin.bin))) return { path: withBin, installed: false };
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true }).catch(() => undefined);
  await mkdir(tmp, { recursive: true });
  const r = await npm(["install", "--prefix", tmp, "--no-save", "--loglevel", "error", pin.source ?? `${pin.pkg}@${pin.version}`], tmp, env, opts.timeoutMs ?? 10 * 60_000);
  if (r.code !== 0 || !(await exists(join(tmp, "node_modules", ".bin", pin.bin)))) {
    await rm(tmp, { recursive: true }).catch(() => undefined);
    throw new RouterError("E_USAGE", `could not install ${pin.pkg}@${pin.version} for agent ${agent}: ${r.output.trim().split("\n").slice(-3).join(" ")}`, { agent, pkg: pin.pkg }, { fix: `Check that the runner reaches the npm registry, or install ${pin.pkg} in an earlier step.` });
  }
  await rename(tmp, dir).catch(async (err: unknown) => {
    // Another job on this runner finished the same install first: theirs is as good.
    await rm(tmp, { recursive: true }).catch(() => undefined);
    if (!(await exists(join(bin, pin.bin)))) throw err;
  });
  return { path: withBin, installed: true };
}
