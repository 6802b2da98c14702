// The fake GitHub's data: repositories with issues, comments, reactions, labels, sub-issue links,
// pull requests, collaborator permissions and a small git model (branch → head sha; commit sha →
// parent and files), plus Projects v2. Tests seed and inspect it directly; the REST and GraphQL
// handlers change it as GitHub would.
import { execFileSync } from "node:child_process";
import { gitCommit, shortId } from "./git.ts";
import type { FakeComment, FakeCommit, FakeIssue, FakeLabel, FakeProject, FakePull, FakeRepository, FakeUser } from "./records.ts";
import type { FakeInstallation } from "./rest-app.ts";


export interface FakeStateOptions {
  /** Repositories to create, "owner/name"; default ["acme/widgets"]. Each gets branch `main` with one commit. */
  repositories?: string[];
  /** Whether an owner is an organization (default) or a user account. */
  ownerType?: "Organization" | "User";
  /** The authenticated user every write is made as; default agent-router[bot]. */
  viewer?: { login: string; type?: FakeUser["type"] };
  /** Timestamps; default a clock that starts at 2026-01-01T00:00:00Z and moves one second per reading. */
  clock?: () => Date;
  /** GraphQL `Blob.text` beyond this many bytes is cut short with isTruncated; default 512 kB. */
  blobTextLimitBytes?: number;
}

const TASK_BRANCHES = "refs/heads/agent-router/task-";

export class FakeGitHubState {
  readonly repositories = new Map<string, FakeRepository>();
  readonly users = new Map<string, FakeUser>();
  readonly projects: FakeProject[] = [];
  /** Problems the schema checkers found in requests (and in the fake's own answers). Tests assert it stays empty. */
  readonly schemaProblems: string[] = [];
  /** When set, every Projects v2 lookup answers FORBIDDEN (as for GITHUB_TOKEN). */
  projectsForbidden = false;
  readonly viewer: FakeUser;
  /** GitHub App installations by id (the app routes: tokens, repositories). */
  readonly installations = new Map<number, FakeInstallation>();
  readonly blobTextLimitBytes: number;
  private lastId = 1000;
  private readonly gitRemotes = new Map<FakeRepository, string>();
  private readonly clock: () => Date;

  constructor(opts: FakeStateOptions = {}) {
    let tick = Date.parse("2026-01-01T00:00:00Z");
    this.clock = opts.clock ?? (() => new Date((tick += 1000)));
    this.blobTextLimitBytes = opts.blobTextLimitBytes ?? 512 * 1024;
    this.viewer = this.user(opts.viewer?.login ?? "agent-router[bot]", opts.viewer?.type ?? "Bot");
    for (const full of opts.repositories ?? ["acme/widgets"]) this.addRepository(full, { ownerType: opts.ownerType ?? "Organization" });
  }

  /** Installs the app on `repositories` (full names; created when missing) under the account of the first one's owner. */
  addInstallation(id: number, repositories: string[]): FakeInstallation {
    for (const full of repositories) if (!this.repo(full)) this.addRepository(full);
    const owner = repositories[0]?.split("/")[0] ?? "acme";
    const inst: FakeInstallation = { id, account: this.user(owner, "Organization"), repositories: [...repositories], tokens: [] };
    this.installations.set(id, inst);
    return inst;
  }

  now(): string {
    return this.clock().toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  nextId(): number {
    return ++this.lastId;
  }

  /** A user by login, created on first use. */
  user(login: string, type: FakeUser["type"] = "User"): FakeUser {
    const key = login.toLowerCase();
    let u = this.users.get(key);
    if (!u) {
      const id = this.nextId();
      u = { login, id, node_id: `${type === "Organization" ? "O" : "U"}_kg${id}`, type };
      this.users.set(key, u);
    }
    return u;
  }

  addRepository(fullName: string, opts: { ownerType?: "Organization" | "User"; defaultBranch?: string; files?: Record<string, string> } = {}): FakeRepository {
    const [ownerLogin = "", name = ""] = fullName.split("/");
    const branch = opts.defaultBranch ?? "main";
    const id = this.nextId();
    const root = gitCommit(null, new Map(Object.entries(opts.files ?? { "README.md": `# ${name}\n` })), "Initial commit", this.now());
    const repo: FakeRepository = {
      owner: this.user(ownerLogin, opts.ownerType ?? "Organization"),
      name,
      id,
      node_id: `R_kg${id}`,
      default_branch: branch,
      issues: new Map(),
      comments: new Map(),
      reactions: [],
      labels: new Map(),
      pulls: new Map(),
      permissions: new Map([[ownerLogin.toLowerCase(), "admin"]]),
      refs: new Map([[`refs/heads/${branch}`, root.sha]]),
      commits: new Map([[root.sha, root]]),
      workflows: new Set(["agent-router.yml"]),
      dispatches: [],
      nextNumber: 1,
    };
    this.repositories.set(fullName.toLowerCase(), repo);
    return repo;
  }

  /**
   * Pushes to this bare repository show on the fake as pushes show on GitHub: before each request,
   * its task branches (`refs/heads/agent-router/task-*`) are read into the repository's refs (and
   * ones deleted there go). The fake's own branches (the ledger's, made by GraphQL) stay its own.
   */
  linkGitRemote(fullName: string, bareDir: string): void {
    this.gitRemotes.set(this.mustRepo(fullName), bareDir);
  }

  /** Reads every linked bare repository's task branches (see linkGitRemote). */
  readPushes(): void {
    for (const [repo, dir] of this.gitRemotes) {
      const listed = execFileSync("git", ["for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/agent-router/"], { cwd: dir, encoding: "utf8" });
      const pushed = new Map(
        listed
          .split("\n")
          .filter((line) => line.startsWith(TASK_BRANCHES))
          .map((line) => line.split(" ") as [string, string]),
      );
      for (const name of [...repo.refs.keys()]) if (name.startsWith(TASK_BRANCHES) && !pushed.has(name)) repo.refs.delete(name);
      for (const [name, sha] of pushed) repo.refs.set(name, sha);
    }
  }

  repo(owner: string, name?: string): FakeRepository | undefined {
    return this.repositories.get((name === undefined ? owner : `${owner}/${name}`).toLowerCase());
  }

  /** The repository, which must exist (for seeding). */
  mustRepo(fullName: string): FakeRepository {
    const repo = this.repo(fullName);
    if (!repo) throw new Error(`fake-github: no repository ${fullName}`);
    return repo;
  }

  /** A repository label, created when missing (as adding an unknown label to an issue does). */
  ensureLabel(repo: FakeRepository, name: string, color = "ededed", description: string | null = null): FakeLabel {
    const key = name.toLowerCase();
    let label = repo.labels.get(key);
    if (!label) {
      const id = this.nextId();
      label = { id, node_id: `LA_kw${id}`, name, color, description };
      repo.labels.set(key, label);
    }
    return label;
  }

  addIssue(fullName: string, input: { title: string; body?: string | null; labels?: string[]; user?: string; state?: "open" | "closed" }): FakeIssue {
    const repo = this.mustRepo(fullName);
    return this.createIssue(repo, { ...input, user: input.user ? this.user(input.user) : this.viewer });
  }

  createIssue(repo: FakeRepository, input: { title: string; body?: string | null; labels?: string[]; user: FakeUser; state?: "open" | "closed" }): FakeIssue {
    const id = this.nextId();
    const at = this.now();
    const labels = [...new Set((input.labels ?? []).map((l) => this.ensureLabel(repo, l).name))];
    const closed = input.state === "closed";
    const issue: FakeIssue = {
      number: repo.nextNumber++,
      id,
      node_id: `I_kw${id}`,
      title: input.title,
      body: input.body ?? null,
      state: closed ? "closed" : "open",
      state_reason: closed ? "completed" : null,
      labels,
      user: input.user,
      created_at: at,
      updated_at: at,
      closed_at: closed ? at : null,
      subIssueIds: [],
      // Labels given at creation (an issue form's, or the opener's) are the opener's events.
      labelEvents: labels.map((label) => ({ id: this.nextId(), event: "labeled" as const, label, actor: input.user, created_at: at })),
    };
    repo.issues.set(issue.number, issue);
    return issue;
  }

  /** Adds a label to an issue as `login` would (recorded as a `labeled` event by that user). */
  labelIssue(fullName: string, issue: number, label: string, login: string): void {
    const repo = this.mustRepo(fullName);
    const found = repo.issues.get(issue);
    if (!found) throw new Error(`fake-github: no issue #${issue} in ${fullName}`);
    const name = this.ensureLabel(repo, label).name;
    if (!found.labels.some((l) => l.toLowerCase() === name.toLowerCase())) found.labels.push(name);
    found.labelEvents.push({ id: this.nextId(), event: "labeled", label: name, actor: this.user(login), created_at: this.now() });
  }

  addComment(fullName: string, issue: number, body: string, user?: string): FakeComment {
    const repo = this.mustRepo(fullName);
    return this.createComment(repo, issue, body, user ? this.user(user) : this.viewer);
  }

  createComment(repo: FakeRepository, issue: number, body: string, user: FakeUser): FakeComment {
    const id = this.nextId();
    const at = this.now();
    const comment: FakeComment = { id, node_id: `IC_kw${id}`, issue_number: issue, body, user, created_at: at, updated_at: at };
    repo.comments.set(id, comment);
    const target = repo.issues.get(issue);
    if (target) target.updated_at = at;
    return comment;
  }

  /** A Projects v2 project with a single-select Status field holding `statuses`. */
  addProject(input: { owner: string; kind?: "organization" | "user"; number?: number; title?: string; field?: string; statuses?: string[] }): FakeProject {
    const id = this.nextId();
    const fieldId = `PVTSSF_kw${this.nextId()}`;
    const project: FakeProject = {
      id: `PVT_kw${id}`,
      number: input.number ?? this.projects.filter((p) => p.owner.login.toLowerCase() === input.owner.toLowerCase()).length + 1,
      title: input.title ?? "Tasks",
      owner: { login: input.owner, kind: input.kind ?? "organization" },
      fields: [
        { id: `PVTF_kw${this.nextId()}`, name: "Title", dataType: "TEXT", options: [] },
        { id: fieldId, name: input.field ?? "Status", dataType: "SINGLE_SELECT", options: (input.statuses ?? ["Todo", "In Progress", "Done"]).map((name) => ({ id: shortId(`${id} ${name}`), name })) },
      ],
      items: [],
    };
    this.user(input.owner, project.owner.kind === "organization" ? "Organization" : "User");
    this.projects.push(project);
    return project;
  }

  /** Commits `changes` (path → text, null deletes) on top of `branch` and moves it; creates the branch from the default one when missing. */
  commit(repo: FakeRepository, branch: string, changes: Record<string, string | null>, message = "Update files"): FakeCommit {
    const ref = `refs/heads/${branch}`;
    const headSha = repo.refs.get(ref) ?? repo.refs.get(`refs/heads/${repo.default_branch}`);
    const parent = headSha === undefined ? null : (repo.commits.get(headSha) ?? null);
    const files = new Map(parent?.files ?? []);
    for (const [path, text] of Object.entries(changes)) {
      if (text === null) files.delete(path);
      else files.set(path, text);
    }
    const commit = gitCommit(parent, files, message, this.now());
    repo.commits.set(commit.sha, commit);
    repo.refs.set(ref, commit.sha);
    return commit;
  }

  /** Merges a pull request (as the web UI would): merged, closed, and its issue closed. */
  mergePull(repo: FakeRepository, number: number): FakePull {
    const pull = repo.pulls.get(number);
    const issue = repo.issues.get(number);
    if (!pull || !issue) throw new Error(`fake-github: no pull request #${number}`);
    const at = this.now();
    Object.assign(pull, { merged: true, merged_at: at, state: "closed", closed_at: at, updated_at: at });
    Object.assign(issue, { state: "closed", state_reason: "completed", closed_at: at, updated_at: at });
    return pull;
  }

  /** Every issue of every repository, for node-id lookups. */
  findIssueByNodeId(nodeId: string): { repo: FakeRepository; issue: FakeIssue } | undefined {
    for (const repo of this.repositories.values()) {
      for (const issue of repo.issues.values()) if (issue.node_id === nodeId && !issue.deleted) return { repo, issue };
    }
    return undefined;
  }
}
