// The permission check behind every command fails closed: an error or no answer is a refusal.
import { describe, expect, it } from "vitest";
import { checkCommenter } from "../../../src/app/check-commenter.ts";
import { RouterError } from "../../../src/core/errors.ts";
import type { GitHub, GitHubPermission } from "../../../src/core/github-port.ts";

/** A GitHub whose only working method is `permission`. */
const withPermission = (permission: (login: string) => Promise<GitHubPermission>): GitHub => ({ permission }) as unknown as GitHub;

describe("checkCommenter", () => {
  it("passes GitHub's answer on", async () => {
    expect(await checkCommenter(withPermission(async () => "write"), "alice")).toEqual({ permission: "write" });
    expect(await checkCommenter(withPermission(async () => "none"), "mallory")).toEqual({ permission: "none" });
  });

  it("an error is a refusal naming the HTTP status, never a guess", async () => {
    const failing = withPermission(async () => {
      throw new RouterError("E_GITHUB_UNAVAILABLE", "GitHub answered 502", { status: 502 });
    });
    expect(await checkCommenter(failing, "alice")).toEqual({ error: "HTTP 502" });
    expect(await checkCommenter(withPermission(async () => Promise.reject(new Error("socket hang up"))), "alice")).toEqual({ error: "socket hang up" });
  });

  it("no answer within the timeout is a refusal", async () => {
    const hanging = withPermission(() => new Promise<GitHubPermission>(() => undefined));
    expect(await checkCommenter(hanging, "alice", 20)).toEqual({ error: "no answer within 20 ms" });
  });
});
