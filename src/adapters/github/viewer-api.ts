// Who the token acts as, over GraphQL: REST `GET /user` answers 403 to installation tokens (the
// Actions GITHUB_TOKEN is one), while `viewer` answers every kind of token.
import { RouterError } from "../../core/errors.ts";
import type { GitHub } from "../../core/github-port.ts";
import { guard } from "./github-errors.ts";
import type { RepoContext } from "./repo-context.ts";

export const VIEWER = `query Viewer {
  viewer { databaseId login }
}`;

interface ViewerAnswer {
  viewer: { databaseId: number | null; login: string } | null;
}

export function viewerApi(ctx: RepoContext): Pick<GitHub, "viewer"> {
  const site = { method: "POST", route: "/graphql Viewer" };
  return {
    async viewer() {
      const answer = await guard(site, () => ctx.octokit.graphql<ViewerAnswer>(VIEWER));
      const v = answer.viewer;
      if (!v || !Number.isSafeInteger(v.databaseId)) {
        throw new RouterError("E_GITHUB", `GitHub's GraphQL API did not say which account the token acts as (${v ? `viewer ${v.login} has no databaseId` : "no viewer"})`, { ...site, status: 200 });
      }
      return { id: v.databaseId!, login: v.login };
    },
  };
}
