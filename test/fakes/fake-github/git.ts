// A small git model for the fake: commits hold the whole tree as path → text, and shas are real
// SHA-1s of git-shaped content (blob shas match `git hash-object`), so they look and compare like GitHub's.
import { createHash } from "node:crypto";
import type { FakeCommit } from "./records.ts";

function sha1(text: string | Buffer): string {
  return createHash("sha1").update(text).digest("hex");
}

/** The git blob sha of a file's text, as `git hash-object` computes it. */
export function blobSha(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  return sha1(Buffer.concat([Buffer.from(`blob ${bytes.length}\0`), bytes]));
}

/** A short stable id (8 hex digits), like a Projects v2 single-select option id. */
export function shortId(seed: string): string {
  return sha1(seed).slice(0, 8);
}

/** A commit on `parent` whose tree is `files`. The sha covers parent, tree, message and date. */
export function gitCommit(parent: FakeCommit | null, files: Map<string, string>, message: string, date: string): FakeCommit {
  const tree = sha1([...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([path, text]) => `${path}\0${blobSha(text)}`).join("\n"));
  const sha = sha1(`commit\ntree ${tree}\nparent ${parent?.sha ?? ""}\ndate ${date}\n\n${message}`);
  return { sha, parent: parent?.sha ?? null, files, message, date };
}
