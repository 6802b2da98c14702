/**
 * The agent CLIs' versions the adapters are checked against (shared/reference/agent-clis.md §1),
 * installed by the Action's worker when the runner lacks them. scripts/install-agent-clis.mjs
 * keeps the same table for the test suite (a test checks the two agree).
 */
export interface PinnedCli {
  agent: string;
  pkg: string;
  version: string;
  bin: string;
  /** What npm installs (a tarball path or URL for a mirror); default `pkg@version` from the registry. */
  source?: string;
}

export const PINNED_CLIS: readonly PinnedCli[] = [
  { agent: "claude", pkg: "@anthropic-ai/claude-code", version: "2.1.197", bin: "claude" },
  { agent: "codex", pkg: "@openai/codex", version: "0.169.0", bin: "codex" },
  { agent: "opencode", pkg: "opencode-ai", version: "1.18.33", bin: "opencode" },
];
