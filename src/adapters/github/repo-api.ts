// The repository, pull requests, collaborator permission and branch refs over REST.
import type { GitHub } from "../../core/github-port.ts";
import { guard, httpFailure, onStatus, site } from "./github-errors.ts";
import { toPermission, toPull } from "./map-github.ts";
import type { RepoContext } from "./repo-context.ts";
import { PER_PAGE } from "./repo-context.ts";
import { NO_RESEND } from "./github-errors.ts";

type RepoApi = Pick<GitHub, "defaultBranch" | "findPull" | "createPull" | "updatePull" | "permission" | "createBranch" | "branchHead" | "listBranches" | "dispatchWorkflow">;

const GET_REPO = "GET /repos/{owner}/{repo}";
const LIST_PULLS = "GET /repos/{owner}/{repo}/pulls";
const CREATE_PULL = "POST /repos/{owner}/{repo}/pulls";
const UPDATE_PULL = "PATCH /repos/{owner}/{repo}/pulls/{pull_number}";
const PERMISSION = "GET /repos/{owner}/{repo}/collaborators/{username}/permission";
const CREATE_REF = "POST /repos/{owner}/{repo}/git/refs";
const GET_REF = "GET /repos/{owner}/{repo}/git/ref/{ref}";
const MATCHING_REFS = "GET /repos/{owner}/{repo}/git/matching-refs/{ref}";
const DISPATCH = "POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches";

interface RestRef {
  ref: string;
  object: { sha: string };
}

/** A 422 from creating a ref that is already there. */
function refExists(err: unknown): { value: "exists" } | undefined {
  const f = httpFailure(err);
  return f?.status === 422 && /reference already exists/i.test(f.message) ? { value: "exists" } : undefined;
}

export function repoApi(ctx: RepoContext): RepoApi {
  const { octokit, owner, repo } = ctx;
  let defaultBranch: Promise<string> | undefined;
  const sameRepo = (fullName: string | undefined) => fullName === undefined || fullName.toLowerCase() === `${owner}/${repo}`.toLowerCase();

  return {
    defaultBranch() {
      defaultBranch ??= guard(site(GET_REPO), () => octokit.request(GET_REPO, { owner, repo })).then((res) => res.data.default_branch);
      // A failure is not cached: the next call asks again.
      defaultBranch.catch(() => (defaultBranch = undefined));
      return defaultBranch;
    },

    async findPull(head) {
      const pulls = await guard(site(LIST_PULLS), () =>
        octokit.paginate(LIST_PULLS, { owner, repo, head: `${owner}:${head}`, state: "all", sort: "created", direction: "desc", per_page: PER_PAGE }),
      );
      const mine = pulls.filter((p) => p.head.ref === head && sameRepo(p.head.repo?.full_name));
      const newest = mine.reduce<(typeof mine)[number] | undefined>((best, p) => (best === undefined || p.number > best.number ? p : best), undefined);
      return newest ? toPull(newest) : null;
    },

    async createPull(input) {
      const res = await guard(site(CREATE_PULL), () =>
        octokit.request(CREATE_PULL, { owner, repo, head: input.head, base: input.base, title: input.title, body: input.body, draft: input.draft, request: NO_RESEND }),
      );
      return toPull(res.data);
    },

    async updatePull(pull, change) {
      const body = { ...(change.title === undefined ? {} : { title: change.title }), ...(change.body === undefined ? {} : { body: change.body }) };
      if (Object.keys(body).length === 0) return;
      await guard(site(UPDATE_PULL), () => octokit.request(UPDATE_PULL, { owner, repo, pull_number: pull, ...body }));
    },

    async permission(username) {
      const res = await guard(site(PERMISSION), () => octokit.request(PERMISSION, { owner, repo, username }), onStatus([404], null));
      return res === null ? "none" : toPermission(res.data.permission);
    },

    async createBranch(branch, sha) {
      const res = await guard(site(CREATE_REF), () => octokit.request(CREATE_REF, { owner, repo, ref: `refs/heads/${branch}`, sha }), refExists);
      return res === "exists" ? "exists" : "created";
    },

    async branchHead(branch) {
      const res = await guard(site(GET_REF), () => octokit.request(GET_REF, { owner, repo, ref: `heads/${branch}` }), onStatus([404], null));
      if (res === null) return null;
      // Older servers answer a prefix with a list of refs: only the exact name counts.
      const data = res.data as RestRef | RestRef[];
      const ref = (Array.isArray(data) ? data : [data]).find((r) => r.ref === `refs/heads/${branch}`);
      return ref?.object.sha ?? null;
    },

    async listBranches(prefix) {
      // matching-refs answers every match at once and takes no paging parameters (OpenAPI lists none).
      const refs = (await guard(site(MATCHING_REFS), () => octokit.request(MATCHING_REFS, { owner, repo, ref: `heads/${prefix}` }))).data as RestRef[];
      return refs.map((r) => r.ref.replace(/^refs\/heads\//, "")).filter((name) => name.startsWith(prefix));
    },

    async dispatchWorkflow(input) {
      const res = await guard(site(DISPATCH), () =>
        octokit.request(DISPATCH, { owner, repo, workflow_id: input.workflow, ref: input.ref, inputs: input.inputs, return_run_details: true, request: NO_RESEND }),
      );
      // 200 with the run's details (since 2026-02); 204 and no body from a server that predates them.
      const data = (res.status === 200 ? res.data : null) as { html_url?: unknown } | null;
      return { runUrl: typeof data?.html_url === "string" ? data.html_url : null };
    },
  };
}
