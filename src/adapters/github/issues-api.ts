// Issues, comments, reactions, labels and sub-issues over REST.
import type { GitHub, GitHubActor } from "../../core/github-port.ts";
import { guard, httpFailure, onStatus, site, toRouterError } from "./github-errors.ts";
import { toActor, toComment, toIssue } from "./map-github.ts";
import type { RepoContext } from "./repo-context.ts";
import { PER_PAGE } from "./repo-context.ts";
import { NO_RESEND } from "./github-errors.ts";

type IssuesApi = Pick<
  GitHub,
  | "getIssue"
  | "issuesSince"
  | "openIssuesLabelled"
  | "labelledBy"
  | "createIssue"
  | "setIssueState"
  | "listComments"
  | "createComment"
  | "updateComment"
  | "deleteComment"
  | "react"
  | "addLabels"
  | "removeLabel"
  | "ensureLabel"
  | "listSubIssues"
  | "addSubIssue"
>;

const GET_ISSUE = "GET /repos/{owner}/{repo}/issues/{issue_number}";
const CREATE_ISSUE = "POST /repos/{owner}/{repo}/issues";
const LIST_ISSUES = "GET /repos/{owner}/{repo}/issues";
const LIST_EVENTS = "GET /repos/{owner}/{repo}/issues/{issue_number}/events";
const UPDATE_ISSUE = "PATCH /repos/{owner}/{repo}/issues/{issue_number}";
const DELETE_COMMENT = "DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}";
const LIST_COMMENTS = "GET /repos/{owner}/{repo}/issues/{issue_number}/comments";
const CREATE_COMMENT = "POST /repos/{owner}/{repo}/issues/{issue_number}/comments";
const UPDATE_COMMENT = "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}";
const REACT_ISSUE = "POST /repos/{owner}/{repo}/issues/{issue_number}/reactions";
const REACT_COMMENT = "POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions";
const ADD_LABELS = "POST /repos/{owner}/{repo}/issues/{issue_number}/labels";
const REMOVE_LABEL = "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}";
const CREATE_LABEL = "POST /repos/{owner}/{repo}/labels";
const LIST_SUB_ISSUES = "GET /repos/{owner}/{repo}/issues/{issue_number}/sub_issues";
const ADD_SUB_ISSUE = "POST /repos/{owner}/{repo}/issues/{issue_number}/sub_issues";

/** A 422 whose errors say the label exists (`code: "already_exists"`). */
function labelExists(err: unknown): { value: undefined } | undefined {
  const f = httpFailure(err);
  const errors = (f?.data as { errors?: { code?: string }[] } | undefined)?.errors ?? [];
  return f?.status === 422 && errors.some((e) => e.code === "already_exists") ? { value: undefined } : undefined;
}

export function issuesApi(ctx: RepoContext): IssuesApi {
  const { octokit, owner, repo } = ctx;

  const listSubIssues: IssuesApi["listSubIssues"] = async (parent) => {
    const subs = await guard(site(LIST_SUB_ISSUES), () => octokit.paginate(LIST_SUB_ISSUES, { owner, repo, issue_number: parent, per_page: PER_PAGE }));
    return subs.map((s) => ({ number: s.number, id: Number(s.id), state: s.state === "closed" ? ("closed" as const) : ("open" as const) }));
  };

  return {
    async getIssue(issue) {
      const res = await guard(site(GET_ISSUE), () => octokit.request(GET_ISSUE, { owner, repo, issue_number: issue }), onStatus([404, 410], null));
      return res === null ? null : toIssue(res.data);
    },

    async createIssue(input) {
      const res = await guard(site(CREATE_ISSUE), () =>
        octokit.request(CREATE_ISSUE, { owner, repo, title: input.title, body: input.body, ...(input.labels?.length ? { labels: input.labels } : {}), request: NO_RESEND }),
      );
      return toIssue(res.data);
    },

    async issuesSince(since) {
      const issues = await guard(site(LIST_ISSUES), () => octokit.paginate(LIST_ISSUES, { owner, repo, state: "all", since, sort: "created", direction: "desc", per_page: PER_PAGE }));
      return issues.map(toIssue).filter((i) => !i.isPullRequest);
    },

    async openIssuesLabelled(label) {
      const issues = await guard(site(LIST_ISSUES), () => octokit.paginate(LIST_ISSUES, { owner, repo, state: "open", labels: label, sort: "created", direction: "asc", per_page: PER_PAGE }));
      return issues.map(toIssue).filter((i) => !i.isPullRequest);
    },

    async labelledBy(issue, label) {
      const events = await guard(site(LIST_EVENTS), () => octokit.paginate(LIST_EVENTS, { owner, repo, issue_number: issue, per_page: PER_PAGE }));
      const wanted = label.toLowerCase();
      let by: GitHubActor | null = null;
      for (const e of events) {
        const name = "label" in e && e.label ? e.label.name.toLowerCase() : undefined;
        if (name !== wanted) continue;
        if (e.event === "labeled") by = e.actor ? toActor(e.actor) : null;
        else if (e.event === "unlabeled") by = null;
      }
      return by;
    },

    async setIssueState(issue, state, reason) {
      const change = state === "closed" && reason ? { state, state_reason: reason } : { state };
      await guard(site(UPDATE_ISSUE), () => octokit.request(UPDATE_ISSUE, { owner, repo, issue_number: issue, ...change }));
    },

    async listComments(issue) {
      const comments = await guard(site(LIST_COMMENTS), () => octokit.paginate(LIST_COMMENTS, { owner, repo, issue_number: issue, per_page: PER_PAGE }));
      // GitHub lists by ascending id already; sorting keeps that true whatever a server does.
      return comments.map(toComment).sort((a, b) => a.id - b.id);
    },

    async createComment(issue, body) {
      const res = await guard(site(CREATE_COMMENT), () => octokit.request(CREATE_COMMENT, { owner, repo, issue_number: issue, body, request: NO_RESEND }));
      return toComment(res.data);
    },

    async updateComment(commentId, body) {
      await guard(site(UPDATE_COMMENT), () => octokit.request(UPDATE_COMMENT, { owner, repo, comment_id: commentId, body }));
    },

    async react(target, content) {
      // 201 when created, 200 when the same reaction exists: both are success to Octokit.
      if ("issue" in target) {
        await guard(site(REACT_ISSUE), () => octokit.request(REACT_ISSUE, { owner, repo, issue_number: target.issue, content }));
      } else {
        await guard(site(REACT_COMMENT), () => octokit.request(REACT_COMMENT, { owner, repo, comment_id: target.comment, content }));
      }
    },

    async addLabels(issue, labels) {
      if (labels.length === 0) return;
      await guard(site(ADD_LABELS), () => octokit.request(ADD_LABELS, { owner, repo, issue_number: issue, labels }));
    },

    async deleteComment(commentId) {
      // 404: already gone, which is what was asked.
      await guard(site(DELETE_COMMENT), () => octokit.request(DELETE_COMMENT, { owner, repo, comment_id: commentId }), onStatus([404], undefined));
    },

    async removeLabel(issue, label) {
      // 404: the label is not on the issue, which is what was asked.
      await guard(site(REMOVE_LABEL), () => octokit.request(REMOVE_LABEL, { owner, repo, issue_number: issue, name: label }), onStatus([404], undefined));
    },

    async ensureLabel(label) {
      const color = label.color.replace(/^#/, "");
      await guard(site(CREATE_LABEL), () => octokit.request(CREATE_LABEL, { owner, repo, name: label.name, color, description: label.description }), labelExists);
    },

    listSubIssues,

    async addSubIssue(parent, childId) {
      try {
        await octokit.request(ADD_SUB_ISSUE, { owner, repo, issue_number: parent, sub_issue_id: childId });
      } catch (err) {
        // GitHub's 422 covers "already a sub-issue here" and real refusals (another parent, the
        // 100 limit) with wording that is not documented: ask the parent instead of reading it.
        if (httpFailure(err)?.status === 422 && (await listSubIssues(parent)).some((s) => s.id === childId)) {
          ctx.log.debug("sub-issue already linked", { parent, childId });
          return;
        }
        throw toRouterError(err, site(ADD_SUB_ISSUE));
      }
    },
  };
}
