// The ledger branch over GraphQL: one query reads the head and the file together, and
// createCommitOnBranch commits only if the head is still the one read (compare-and-swap).
import { Buffer } from "node:buffer";
import { RouterError } from "../../core/errors.ts";
import type { BranchFile, CommitOutcome, FileChange, GitHub } from "../../core/github-port.ts";
import { graphqlFailure, guard, onStatus, site } from "./github-errors.ts";
import type { RepoContext } from "./repo-context.ts";

export const READ_BRANCH_FILE = `query ReadBranchFile($owner: String!, $repo: String!, $ref: String!, $path: String!) {
  repository(owner: $owner, name: $repo) {
    ref(qualifiedName: $ref) {
      target {
        oid
        ... on Commit { file(path: $path) { object { ... on Blob { text isTruncated isBinary } } } }
      }
    }
  }
}`;

export const COMMIT_ON_BRANCH = `mutation CommitOnBranch($input: CreateCommitOnBranchInput!) {
  createCommitOnBranch(input: $input) { commit { oid } }
}`;

interface ReadAnswer {
  repository: {
    ref: {
      target: { oid: string; file?: { object: { text: string | null; isTruncated: boolean; isBinary: boolean | null } | null } | null };
    } | null;
  } | null;
}

interface CommitAnswer {
  createCommitOnBranch: { commit: { oid: string } | null } | null;
}

const GET_CONTENT = "GET /repos/{owner}/{repo}/contents/{path}";

/** Public clients match this wording of a moved head; the error type is STALE_DATA. */
const STALE_MESSAGE = /Expected branch to point to/i;

function isStale(err: unknown): { value: CommitOutcome } | undefined {
  const gql = graphqlFailure(err);
  const stale = gql?.errors.some((e) => e.type === "STALE_DATA" || STALE_MESSAGE.test(e.message));
  return stale ? { value: { ok: false, stale: true } } : undefined;
}

function toText(data: unknown): string {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return Buffer.from(data as ArrayBuffer).toString("utf8");
  throw new TypeError(`unexpected raw file contents (${typeof data})`);
}

/** Headline = first line, body = the rest (createCommitOnBranch takes them apart). */
function commitMessage(message: string): { headline: string; body?: string } {
  const [headline = "", ...rest] = message.split("\n");
  const body = rest.join("\n").trim();
  return body === "" ? { headline } : { headline, body };
}

export function ledgerGraphql(ctx: RepoContext): Pick<GitHub, "readFile" | "commitFiles"> {
  const { octokit, owner, repo } = ctx;

  /** Blobs GraphQL cut short (about 512 kB and up) are read whole over REST, at the same commit. */
  const readRaw = async (path: string, sha: string): Promise<string | null> => {
    const res = await guard(
      site(GET_CONTENT),
      () => octokit.request(GET_CONTENT, { owner, repo, path, ref: sha, headers: { accept: "application/vnd.github.raw+json" } }),
      onStatus([404], null),
    );
    return res === null ? null : toText(res.data);
  };

  return {
    async readFile(branch, path): Promise<BranchFile | null> {
      const answer = await guard({ method: "POST", route: "/graphql ReadBranchFile" }, () =>
        octokit.graphql<ReadAnswer>(READ_BRANCH_FILE, { owner, repo, ref: `refs/heads/${branch}`, path }),
      );
      const target = answer.repository?.ref?.target;
      if (!target) return null;
      const blob = target.file?.object;
      if (!blob) return { head: target.oid, text: null };
      if (blob.isTruncated || (blob.text === null && !blob.isBinary)) return { head: target.oid, text: await readRaw(path, target.oid) };
      return { head: target.oid, text: blob.text ?? null };
    },

    async commitFiles(input): Promise<CommitOutcome> {
      const additions = input.changes.filter((c): c is FileChange & { text: string } => c.text !== null);
      const deletions = input.changes.filter((c) => c.text === null);
      const mutation = {
        branch: { repositoryNameWithOwner: `${owner}/${repo}`, branchName: input.branch },
        expectedHeadOid: input.expectedHead,
        message: commitMessage(input.message),
        fileChanges: {
          ...(additions.length ? { additions: additions.map((c) => ({ path: c.path, contents: Buffer.from(c.text, "utf8").toString("base64") })) } : {}),
          ...(deletions.length ? { deletions: deletions.map((c) => ({ path: c.path })) } : {}),
        },
      };
      const answer = await guard({ method: "POST", route: "/graphql CommitOnBranch" }, () => octokit.graphql<CommitAnswer>(COMMIT_ON_BRANCH, { input: mutation }), isStale);
      if ("ok" in answer) return answer;
      const oid = answer.createCommitOnBranch?.commit?.oid;
      if (!oid) throw new RouterError("E_GITHUB", "GitHub answered createCommitOnBranch without a commit", { method: "POST", route: "/graphql CommitOnBranch" });
      return { ok: true, head: oid };
    },
  };
}
