// The command lines of the built-in CLIs as far as retry caps go (agent-clis.md §2): claude by
// environment, codex per configured provider, opencode not at all.
import { describe, expect, it } from "vitest";
import { invocationFor, type InvocationInput } from "../../../../src/adapters/agent-cli/agent-invocation.ts";
import { MainConfig } from "../../../../src/core/config/main-config.ts";
import { Profile } from "../../../../src/core/config/profile.ts";

const profile = Profile.parse({ name: "feature", description: "d", role: "r", instructions: "i" });
const input = (agent: string, args: string[] = []): InvocationInput => ({ agent, config: MainConfig.parse({ agents: { [agent]: { args } } }).agents[agent], profile, input: "x", bundlePath: "/r/bundle.md", outputPath: "/r/out/handoff.json", home: "/r/home", taskId: 1 });
const provider = ["-c", "model_provider=corp", "-c", "model_providers.corp.name=corp", "-c", "model_providers.corp.base_url=http://llm.corp/v1"];

describe("invocationFor: the CLIs' own API retries", () => {
  it("claude gets CLAUDE_CODE_MAX_RETRIES=1", () => {
    expect(invocationFor(input("claude"), {}).env["CLAUDE_CODE_MAX_RETRIES"]).toBe("1");
  });

  it("codex with a provider from its args gets that provider's retries capped, before the args so they can override", () => {
    const { argv } = invocationFor(input("codex", provider), {});
    const caps = ["-c", "model_providers.corp.request_max_retries=1", "-c", "model_providers.corp.stream_max_retries=1"];
    const at = argv.indexOf(caps[1]!);
    expect(argv.slice(at - 1, at + 3)).toEqual(caps);
    expect(at).toBeLessThan(argv.indexOf("model_provider=corp"));
  });

  it.each([
    ["--config=", ["--config=model_provider=\"corp\""], "corp"],
    ["the last of two", ["-c", "model_provider=a", "-c", "model_provider=b"], "b"],
  ])("codex reads the provider from %s", (_name, args, id) => {
    expect(invocationFor(input("codex", args), {}).argv).toContain(`model_providers.${id}.request_max_retries=1`);
  });

  it.each([
    ["no provider in args (the built-in openai)", []],
    ["the built-in openai named", ["-c", "model_provider=openai"]],
  ])("codex with %s gets no retry keys: codex cannot amend a built-in provider", (_name, args) => {
    expect(invocationFor(input("codex", args), {}).argv.some((a) => a.includes("max_retries"))).toBe(false);
  });

  it("opencode has no retry setting to pass", () => {
    const inv = invocationFor(input("opencode"), {});
    expect([...inv.argv, ...Object.keys(inv.env)].some((a) => /retr/i.test(a))).toBe(false);
  });
});
