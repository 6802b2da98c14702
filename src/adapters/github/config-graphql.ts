// The repository's agent-router configuration as one snapshot, read in one GraphQL query at the head
// of the default branch: `.github/agent-router.yml` and every file up to two folders deep under
// `.github/agent-router/` (profiles, jobs, router). The app has no checkout; reading every file at
// one commit keeps the config consistent and costs one request.
import { RouterError } from "../../core/errors.ts";
import type { ConfigSource } from "../../core/ports.ts";
import { guard } from "./github-errors.ts";
import type { GitHubOctokit } from "./create-octokit.ts";

const BLOB = "... on Blob { text isTruncated isBinary }";
export const READ_CONFIG = `query ReadRouterConfig($owner: String!, $repo: String!) {
  repository(owner: $owner, name: $repo) {
    defaultBranchRef {
      name
      target {
        oid
        ... on Commit {
          main: file(path: ".github/agent-router.yml") { object { ${BLOB} } }
          dir: file(path: ".github/agent-router") {
            object { ... on Tree { entries { name type object { ${BLOB} ... on Tree { entries { name type object { ${BLOB} ... on Tree { entries { name type object { ${BLOB} } } } } } } } } } }
          }
        }
      }
    }
  }
}`;

type Blob = { text?: string | null; isTruncated?: boolean; isBinary?: boolean | null };
interface Entry {
  name: string;
  type: string;
  object: (Blob & { entries?: Entry[] }) | null;
}
interface ConfigAnswer {
  repository: {
    defaultBranchRef: { name: string; target: { oid: string; main?: { object: Blob | null } | null; dir?: { object: { entries?: Entry[] } | null } | null } } | null;
  } | null;
}

export interface ConfigSnapshot {
  branch: string;
  commit: string;
  /** Path from the repository root → text. */
  files: ReadonlyMap<string, string>;
}

const ROOT = ".github/agent-router";

export async function readConfigSnapshot(octokit: GitHubOctokit, repo: { owner: string; repo: string }): Promise<ConfigSnapshot | null> {
  const answer = await guard({ method: "POST", route: "/graphql ReadRouterConfig" }, () => octokit.graphql<ConfigAnswer>(READ_CONFIG, { owner: repo.owner, repo: repo.repo }));
  const ref = answer.repository?.defaultBranchRef;
  if (!ref) return null;
  const files = new Map<string, string>();
  const add = (path: string, blob: Blob | null | undefined) => {
    if (!blob || blob.isBinary) return;
    if (blob.isTruncated) throw new RouterError("E_CONFIG_INVALID", `${path} is too large to be a configuration file (GitHub cut it short)`, { path }, { fix: "Keep configuration files under 512 kB." });
    if (typeof blob.text === "string") files.set(path, blob.text);
  };
  add(`${ROOT}.yml`, ref.target.main?.object);
  const walk = (dir: string, entries: readonly Entry[] | undefined) => {
    for (const e of entries ?? []) {
      const path = `${dir}/${e.name}`;
      if (e.type === "blob") add(path, e.object);
      else if (e.type === "tree") walk(path, e.object?.entries);
    }
  };
  walk(ROOT, ref.target.dir?.object?.entries);
  return { branch: ref.name, commit: ref.target.oid, files };
}

/** A ConfigSource over a snapshot: `read` and `list` answer from memory, named by the commit in messages. */
export function snapshotSource(s: ConfigSnapshot): ConfigSource {
  return {
    describe: `commit ${s.commit.slice(0, 8)} (${s.branch})`,
    read: (path) => Promise.resolve(s.files.get(path.replace(/^\.\//, "")) ?? null),
    list: (dir) => {
      const prefix = `${dir.replace(/^\.\//, "").replace(/\/+$/, "")}/`;
      const names = [...s.files.keys()].filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes("/")).map((p) => p.slice(prefix.length));
      return Promise.resolve(names.sort());
    },
  };
}
