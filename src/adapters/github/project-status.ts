// Projects v2 status over GraphQL. The project is a mirror, and the usual token (GITHUB_TOKEN)
// cannot reach it at all, so every refusal or missing field becomes a warning a person can act on;
// only GitHub being down (E_GITHUB_UNAVAILABLE, retryable) is thrown.
import type { RouterError } from "../../core/errors.ts";
import { isRouterError } from "../../core/errors.ts";
import type { GitHub, ProjectStatusOutcome } from "../../core/github-port.ts";
import { graphqlFailure, toRouterError } from "./github-errors.ts";
import type { RepoContext } from "./repo-context.ts";

const projectQuery = (owner: "organization" | "user") => `query Find${owner === "user" ? "User" : "Org"}Project($login: String!, $number: Int!, $field: String!) {
  ${owner}(login: $login) {
    projectV2(number: $number) {
      id
      field(name: $field) { __typename ... on ProjectV2SingleSelectField { id options { id name } } }
    }
  }
}`;
export const FIND_ORG_PROJECT = projectQuery("organization");
export const FIND_USER_PROJECT = projectQuery("user");

export const ISSUE_PROJECT_ITEMS = `query IssueProjectItems($id: ID!, $field: String!) {
  node(id: $id) {
    ... on Issue {
      projectItems(first: 100) {
        nodes { id project { id } fieldValueByName(name: $field) { ... on ProjectV2ItemFieldSingleSelectValue { optionId } } }
      }
    }
  }
}`;

export const ADD_PROJECT_ITEM = `mutation AddProjectItem($projectId: ID!, $contentId: ID!) {
  addProjectV2ItemById(input: { projectId: $projectId, contentId: $contentId }) { item { id } }
}`;

export const SET_PROJECT_STATUS = `mutation SetProjectStatus($projectId: ID!, $itemId: ID!, $fieldId: ID!, $optionId: String!) {
  updateProjectV2ItemFieldValue(input: { projectId: $projectId, itemId: $itemId, fieldId: $fieldId, value: { singleSelectOptionId: $optionId } }) {
    projectV2Item { id }
  }
}`;

type Field = { __typename: string; id?: string; options?: { id: string; name: string }[] } | null;
type ProjectAnswer = Record<"organization" | "user", { projectV2: { id: string; field: Field } | null } | null | undefined>;
interface ItemsAnswer {
  node: { projectItems?: { nodes: ({ id: string; project: { id: string }; fieldValueByName: { optionId?: string } | null } | null)[] } } | null;
}

interface Project {
  projectId: string;
  fieldId: string;
  options: { id: string; name: string }[];
}

type Input = Parameters<GitHub["setProjectStatus"]>[0];

/** A problem with the project or the token, said so that a person can fix it. */
class ProjectWarning extends Error {}

const TOKEN_HINT = "Projects v2 needs a PAT or GitHub App token with project access; GITHUB_TOKEN cannot";

function warningFor(err: RouterError, step: string, where: string): string {
  const types = (err.details.errorTypes as string[] | undefined) ?? [];
  const status = err.details.status as number | undefined;
  const said = `GitHub: ${String(err.details.message)}`;
  if (types.includes("FORBIDDEN") || types.includes("INSUFFICIENT_SCOPES") || status === 401 || status === 403) {
    return `the token cannot ${step} project ${where} (${said}): ${TOKEN_HINT}`;
  }
  if (types.includes("NOT_FOUND") || status === 404) {
    return `project ${where} was not found or the token cannot see it (${said}): check the project owner and number; ${TOKEN_HINT}`;
  }
  return `could not ${step} project ${where} (${said})`;
}

export function projectStatus(ctx: RepoContext): Pick<GitHub, "setProjectStatus"> {
  const { octokit, log } = ctx;
  const cache = new Map<string, Project>();

  const gql = async <T>(name: string, doc: string, vars: Record<string, unknown>): Promise<T> => {
    try {
      return await octokit.graphql<T>(doc, vars);
    } catch (err) {
      throw toRouterError(err, { method: "POST", route: `/graphql ${name}` });
    }
  };

  /** The organization's project, else the user's (an org lookup of a user login is NOT_FOUND at `organization`). */
  const findProject = async (input: Input): Promise<{ id: string; field: Field }> => {
    const vars = { login: input.owner, number: input.number, field: input.field };
    for (const owner of ["organization", "user"] as const) {
      try {
        const answer = await gql<ProjectAnswer>(owner === "user" ? "FindUserProject" : "FindOrgProject", projectQuery(owner), vars);
        const project = answer[owner]?.projectV2;
        if (project) return project;
      } catch (err) {
        const gqlErr = graphqlFailure(isRouterError(err) ? err.cause : err);
        const ownerMissing = gqlErr?.errors.some((e) => e.type === "NOT_FOUND" && e.path?.length === 1 && e.path[0] === owner);
        if (!ownerMissing) throw err;
      }
    }
    throw new ProjectWarning(`no organization or user ${input.owner} with project number ${input.number} that the token can see: check the project owner and number; ${TOKEN_HINT}`);
  };

  const resolve = async (input: Input, where: string): Promise<Project> => {
    const key = `${input.owner}#${input.number}#${input.field}`;
    const cached = cache.get(key);
    if (cached) return cached;
    const project = await findProject(input);
    const field = project.field;
    if (!field) throw new ProjectWarning(`project ${where} has no field named "${input.field}": add a single-select field with that name, or configure the field's name`);
    if (field.__typename !== "ProjectV2SingleSelectField" || !field.id) {
      throw new ProjectWarning(`field "${input.field}" of project ${where} is a ${field.__typename}, not a single-select field`);
    }
    const resolved = { projectId: project.id, fieldId: field.id, options: field.options ?? [] };
    cache.set(key, resolved);
    return resolved;
  };

  const optionOf = (project: Project, status: string) => project.options.find((o) => o.name.toLowerCase() === status.toLowerCase());

  const setStatus = async (input: Input, where: string, step: { now: string }): Promise<ProjectStatusOutcome> => {
    let project = await resolve(input, where);
    let option = optionOf(project, input.status);
    if (!option) {
      // Someone may have renamed the columns since the field was cached: read it once more.
      log.debug("project status option not among the known ones; reading the field again", { project: where, field: input.field, status: input.status });
      cache.delete(`${input.owner}#${input.number}#${input.field}`);
      project = await resolve(input, where);
      option = optionOf(project, input.status);
    }
    if (!option) {
      const names = project.options.map((o) => o.name).join(", ");
      throw new ProjectWarning(`field "${input.field}" of project ${where} has no option "${input.status}" (it has: ${names || "none"}): add the option or change the status mapping`);
    }
    const items = await gql<ItemsAnswer>("IssueProjectItems", ISSUE_PROJECT_ITEMS, { id: input.issueNodeId, field: input.field });
    const item = items.node?.projectItems?.nodes.find((n) => n?.project.id === project.projectId);
    if (item?.fieldValueByName?.optionId === option.id) return { ok: true, itemId: item.id };
    step.now = "write to";
    let itemId = item?.id;
    if (!itemId) {
      const added = await gql<{ addProjectV2ItemById: { item: { id: string } | null } | null }>("AddProjectItem", ADD_PROJECT_ITEM, {
        projectId: project.projectId,
        contentId: input.issueNodeId,
      });
      itemId = added.addProjectV2ItemById?.item?.id;
      if (!itemId) throw new ProjectWarning(`GitHub did not add issue ${input.issueNodeId} to project ${where}`);
    }
    await gql("SetProjectStatus", SET_PROJECT_STATUS, { projectId: project.projectId, itemId, fieldId: project.fieldId, optionId: option.id });
    return { ok: true, itemId };
  };

  return {
    async setProjectStatus(input) {
      const where = `${input.owner}/${input.number}`;
      const step = { now: "read" };
      try {
        return await setStatus(input, where, step);
      } catch (err) {
        if (err instanceof ProjectWarning) return { ok: false, warning: err.message };
        if (isRouterError(err, "E_GITHUB")) return { ok: false, warning: warningFor(err, step.now, where) };
        throw err;
      }
    },
  };
}
