/** What every agent is told about finishing, in the profile section of its bundle. */
export const HANDOFF_INSTRUCTIONS = [
  "Do not commit, push or open pull requests: the router commits your changes to the task's branch.",
  "When you stop, write one JSON object to the file named by the environment variable AGENT_ROUTER_OUTPUT",
  "(if you cannot write files, end your final message with it in a ```json block):",
  '{"schemaVersion": 1, "status": "done" | "needs_help" | "delegate" | "failed", "summary": "what you did and why",',
  ' "filesChanged": ["path", …], "delegations": [{"key": "k1", "title": "…", "body": "…", "profile": "…", "after": ["k0"]}],',
  ' "question": "for needs_help", "blockers": ["…"], "followUps": ["…"]}',
  "Use delegate only if your role allows it; use needs_help with a question when you cannot go on.",
].join("\n");
