// The records the fake GitHub keeps, shaped after GitHub's own (ids, node ids, numbers, timestamps
// as ISO strings). Tests may read and change them directly through `FakeGitHubState`.

export type Permission = "admin" | "maintain" | "write" | "triage" | "read" | "none";

export interface FakeUser {
  login: string;
  id: number;
  node_id: string;
  type: "User" | "Bot" | "Organization";
}

export interface FakeIssue {
  number: number;
  id: number;
  node_id: string;
  title: string;
  body: string | null;
  state: "open" | "closed";
  state_reason: "completed" | "not_planned" | "duplicate" | "reopened" | null;
  /** Label names, in the order added. */
  labels: string[];
  user: FakeUser;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  /** Set when this "issue" is a pull request (GitHub numbers both from one sequence). */
  pull_request?: true;
  /** A deleted issue answers 410. */
  deleted?: boolean;
  /** Database ids of the sub-issues, in the order linked. */
  subIssueIds: number[];
  parentNumber?: number;
  /** Who added or removed which label, oldest first (the issue's events API). */
  labelEvents: { id: number; event: "labeled" | "unlabeled"; label: string; actor: FakeUser; created_at: string }[];
}

export interface FakeComment {
  id: number;
  node_id: string;
  issue_number: number;
  body: string;
  user: FakeUser;
  created_at: string;
  updated_at: string;
}

export interface FakeReaction {
  id: number;
  node_id: string;
  content: string;
  user: FakeUser;
  created_at: string;
  /** An issue number or a comment id. */
  on: { issue: number } | { comment: number };
}

export interface FakeLabel {
  id: number;
  node_id: string;
  name: string;
  color: string;
  description: string | null;
}

export interface FakePull {
  number: number;
  id: number;
  node_id: string;
  head: string;
  base: string;
  title: string;
  body: string | null;
  draft: boolean;
  state: "open" | "closed";
  merged: boolean;
  merged_at: string | null;
  user: FakeUser;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

export interface FakeCommit {
  sha: string;
  parent: string | null;
  /** Path → text: the whole tree at this commit. */
  files: Map<string, string>;
  message: string;
  date: string;
}

export interface FakeDispatch {
  workflow_id: string;
  ref: string;
  inputs: Record<string, unknown>;
  run_id: number;
}

export interface FakeRepository {
  owner: FakeUser;
  name: string;
  id: number;
  node_id: string;
  default_branch: string;
  issues: Map<number, FakeIssue>;
  comments: Map<number, FakeComment>;
  reactions: FakeReaction[];
  /** By lower-case name (GitHub's label names are case-insensitive). */
  labels: Map<string, FakeLabel>;
  pulls: Map<number, FakePull>;
  /** By lower-case login; a login not here answers 404. */
  permissions: Map<string, Permission>;
  /** Full ref name (refs/heads/main) → commit sha. */
  refs: Map<string, string>;
  commits: Map<string, FakeCommit>;
  /** Workflow file names or ids that accept workflow_dispatch. */
  workflows: Set<string>;
  dispatches: FakeDispatch[];
  nextNumber: number;
}

export interface FakeProjectField {
  id: string;
  name: string;
  dataType: "SINGLE_SELECT" | "TEXT";
  options: { id: string; name: string }[];
}

export interface FakeProjectItem {
  id: string;
  /** The issue's node id. */
  contentId: string;
  /** Field id → single-select option id. */
  values: Map<string, string>;
}

export interface FakeProject {
  id: string;
  number: number;
  title: string;
  owner: { login: string; kind: "organization" | "user" };
  fields: FakeProjectField[];
  items: FakeProjectItem[];
}
