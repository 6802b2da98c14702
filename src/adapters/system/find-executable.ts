import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { delimiter, resolve } from "node:path";

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where `program` is found when spawned from `cwd` with this PATH, as `spawn` (execvp) looks: a name
 * with a slash is a path, relative to `cwd`; a bare name is searched in each PATH directory. Null
 * when no executable file is there.
 */
export async function findExecutable(program: string, cwd: string, path: string): Promise<string | null> {
  const candidates = program.includes("/")
    ? [resolve(cwd, program)]
    : path
        .split(delimiter)
        .filter((dir) => dir !== "")
        .map((dir) => resolve(cwd, dir, program));
  for (const candidate of candidates) if (await isExecutableFile(candidate)) return candidate;
  return null;
}
