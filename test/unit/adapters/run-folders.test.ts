// Pruning run folders: the newest K attempts of a task stay (an attempt's `-repair` folder goes with
// it), other tasks' folders are never touched, and `task-1` is not a prefix of `task-12`.
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runFolders } from "../../../src/adapters/agent-cli/run-folders.ts";
import { removeTempDirs, tempDir } from "../../support/git-repo.ts";

afterEach(removeTempDirs);

/** Makes run folders with the given ages: the larger `age`, the older (seconds before a fixed time). */
function folders(root: string, ages: Record<string, number>): void {
  const now = 1_700_000_000;
  for (const [name, age] of Object.entries(ages)) {
    mkdirSync(join(root, name, "home"), { recursive: true });
    writeFileSync(join(root, name, "bundle.md"), "bundle\n");
    utimesSync(join(root, name), now - age, now - age);
  }
}

const left = (root: string): string[] => readdirSync(root).sort();

describe("runFolders.prune", () => {
  it("keeps the newest K attempts of the task and removes the rest with their contents", async () => {
    const root = tempDir();
    folders(root, { "task-3-a-old": 400, "task-3-a-mid": 300, "task-3-a-new": 100, "task-3-a-newer": 50 });
    await runFolders(root).prune(3, 2);
    expect(left(root)).toEqual(["task-3-a-new", "task-3-a-newer"]);
  });

  it("counts an attempt and its repair folder as one, and removes them together", async () => {
    const root = tempDir();
    folders(root, {
      "task-3-a-old": 500,
      "task-3-a-old-repair": 450,
      "task-3-a-mid": 300,
      "task-3-a-mid-repair": 250,
      "task-3-a-new": 100,
    });
    await runFolders(root).prune(3, 2);
    expect(left(root)).toEqual(["task-3-a-mid", "task-3-a-mid-repair", "task-3-a-new"]);
  });

  it("dates an attempt by its newest folder: a recent repair round keeps an old attempt", async () => {
    const root = tempDir();
    folders(root, { "task-3-a-first": 500, "task-3-a-first-repair": 10, "task-3-a-second": 100 });
    await runFolders(root).prune(3, 1);
    expect(left(root)).toEqual(["task-3-a-first", "task-3-a-first-repair"]);
  });

  it("leaves other tasks' folders alone, including task 12 when pruning task 1 and task 1 when pruning task 12", async () => {
    const root = tempDir();
    folders(root, { "task-1-a-x": 900, "task-1-a-y": 800, "task-12-a-x": 700, "task-12-a-y": 600, "task-2-a-x": 999, "notes": 999 });
    await runFolders(root).prune(1, 0);
    expect(left(root)).toEqual(["notes", "task-12-a-x", "task-12-a-y", "task-2-a-x"]);
    await runFolders(root).prune(12, 1);
    expect(left(root)).toEqual(["notes", "task-12-a-y", "task-2-a-x"]);
  });

  it("does nothing when the task has K attempts or fewer, or the run folder does not exist", async () => {
    const root = tempDir();
    folders(root, { "task-3-a-one": 20, "task-3-a-one-repair": 10, "task-3-a-two": 5 });
    await runFolders(root).prune(3, 2);
    expect(left(root)).toEqual(["task-3-a-one", "task-3-a-one-repair", "task-3-a-two"]);
    await expect(runFolders(join(root, "missing")).prune(3, 1)).resolves.toBeUndefined();
  });
});
