// `agent-router init --github`, run as users run it (the bundled CLI) in throwaway repositories:
// it writes the Actions workflow once, never overwrites it, and refuses to guess the Action's pin.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { lintWorkflow, renderWorkflow } from "../../src/core/github-workflow.ts";
import { makeRepo, removeTempDirs, sh } from "../support/git-repo.ts";
import { cli, ok } from "../support/cli.ts";

afterAll(removeTempDirs);

const WORKFLOW = ".github/workflows/agent-router.yml";
const SHA = "89abcdef0123456789abcdef0123456789abcdef";

describe.concurrent("init --github", () => {
  it("writes the workflow once, prints the next steps, and leaves an existing workflow alone", async () => {
    const repo = makeRepo();
    const first = await ok(repo, "init", "--github", "--action-sha", SHA, "--cron", "*/30 * * * *");
    const text = readFileSync(join(repo, WORKFLOW), "utf8");
    expect(text).toBe(renderWorkflow({ action: { repository: "agent-router/agent-router", sha: SHA }, cron: "*/30 * * * *" }));
    expect(lintWorkflow(parse(text))).toEqual([]);
    expect(first.stdout).toBe(
      [
        "created .github/agent-router.yml",
        "created ledger.yml on branch agent-router/ledger",
        `created ${WORKFLOW}`,
        "next steps:",
        `  1. commit .github/agent-router.yml and ${WORKFLOW} to the default branch`,
        "  2. add repository secrets (Settings > Secrets and variables > Actions): ANTHROPIC_API_KEY (Claude Code), OPENAI_API_KEY (Codex, OpenCode); GITHUB_TOKEN needs nothing",
        '  3. put the label "agent" on an issue to make it a task, or comment /agent on one',
        "  4. a GitHub Project (Projects v2) needs a project-token (an App token or PAT): GITHUB_TOKEN cannot reach Projects; uncomment project-token in the workflow",
        "",
      ].join("\n"),
    );

    writeFileSync(join(repo, WORKFLOW), "# mine\n");
    const again = await ok(repo, "init", "--github", "--action-repo", "acme/router", "--action-sha", SHA);
    expect(again.stdout).toContain(`${WORKFLOW} exists; left as it is\n`);
    expect(readFileSync(join(repo, WORKFLOW), "utf8")).toBe("# mine\n");
  });

  it("names the label and the secrets of the config it finds", async () => {
    const repo = makeRepo();
    await ok(repo, "init");
    writeFileSync(join(repo, ".github/agent-router.yml"), "agents:\n  claude: { enabled: false }\n  opencode: { enabled: true }\nrouter:\n  classifier: { provider: openai, model: gpt-5-mini }\ngithub:\n  triggerLabel: robot\n");
    const r = await ok(repo, "init", "--github", "--action-repo", "acme/router", "--action-sha", SHA);
    expect(r.stdout).toContain("add repository secrets (Settings > Secrets and variables > Actions): OPENAI_API_KEY (Codex, OpenCode); GITHUB_TOKEN");
    expect(r.stdout).toContain("  5. the classifier uses openai: the workflow's Reconcile step passes only anthropic-api-key");
    expect(r.stdout).toContain('put the label "robot" on an issue');
    expect(readFileSync(join(repo, WORKFLOW), "utf8")).toContain(`uses: acme/router@${SHA}\n`);
  });

  it.each([
    [["--github"], "init --github needs --action-sha"],
    [["--github", "--action-sha", "v1.2.3"], 'the Action commit "v1.2.3" is not a full 40-character'],
    [["--github", "--action-sha", SHA, "--cron", "@daily"], 'the schedule "@daily"'],
    [["--action-sha", SHA], "--action-repo, --action-sha and --cron need --github"],
  ])("refuses %j with a usage error before writing anything", async (args, message) => {
    const repo = makeRepo();
    const r = await cli(repo, "init", ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(existsSync(join(repo, ".github"))).toBe(false);
    expect(sh(repo, "branch", "--list", "agent-router/ledger")).toBe("");
  });

  it("keeps plain init as it was", async () => {
    const repo = makeRepo();
    const r = await ok(repo, "init");
    expect(r.stdout).toBe("created .github/agent-router.yml\ncreated ledger.yml on branch agent-router/ledger\n");
    expect(existsSync(join(repo, WORKFLOW))).toBe(false);
  });
});
