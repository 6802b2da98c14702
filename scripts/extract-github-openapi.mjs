// Extracts the REST operations agent-router uses from GitHub's OpenAPI description into a small
// committed fixture, test/fixtures/github/openapi-operations.json, which test/support/github-schema.ts
// checks requests against (the adapter's and the fake server's). The full description is ~70 MB and
// @octokit/openapi is ~400 MB unpacked, too heavy for a devDependency, so it is installed outside the
// project when the fixture needs refreshing:
//
//   npm install --prefix /tmp/openapi @octokit/openapi@23.0.2
//   node scripts/extract-github-openapi.mjs /tmp/openapi/node_modules/@octokit/openapi/generated/api.github.com.deref.json
//
// Use the dereferenced ("*.deref.json") file: the fixture must hold no $ref. Kept per operation:
// path, method, operationId, path and query parameters (name, in, required, schema, and the
// x-multi-segment flag of parameters that span slashes), the JSON request body schema and whether it
// is required, the response status codes, and the JSON schemas of the 2xx answers (the fake server's
// answers are checked against them). Descriptions, examples and header parameters go.
import { existsSync, readFileSync, writeFileSync } from "node:fs";

/** Method and path template of every operation the GitHub adapter sends (POST /graphql is checked against the GraphQL schema instead). */
const OPERATIONS = [
  ["GET", "/repos/{owner}/{repo}"],
  ["GET", "/repos/{owner}/{repo}/issues/{issue_number}"],
  ["PATCH", "/repos/{owner}/{repo}/issues/{issue_number}"],
  ["POST", "/repos/{owner}/{repo}/issues"],
  ["GET", "/repos/{owner}/{repo}/issues"],
  ["GET", "/repos/{owner}/{repo}/issues/{issue_number}/events"],
  ["GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"],
  ["POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"],
  ["GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}"],
  ["PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"],
  ["DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}"],
  ["POST", "/repos/{owner}/{repo}/issues/{issue_number}/reactions"],
  ["POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"],
  ["POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels"],
  ["DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}"],
  ["POST", "/repos/{owner}/{repo}/labels"],
  ["GET", "/repos/{owner}/{repo}/issues/{issue_number}/sub_issues"],
  ["POST", "/repos/{owner}/{repo}/issues/{issue_number}/sub_issues"],
  ["GET", "/repos/{owner}/{repo}/pulls"],
  ["POST", "/repos/{owner}/{repo}/pulls"],
  ["PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}"],
  ["GET", "/repos/{owner}/{repo}/collaborators/{username}/permission"],
  ["GET", "/repos/{owner}/{repo}/git/ref/{ref}"],
  ["POST", "/repos/{owner}/{repo}/git/refs"],
  ["GET", "/repos/{owner}/{repo}/git/matching-refs/{ref}"],
  ["POST", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches"],
  // The adapter reads a ledger file that GraphQL truncated (about 512 kB and up) through this one.
  ["GET", "/repos/{owner}/{repo}/contents/{path}"],
  // The app: its installations (app JWT), an installation's token, and the repositories it may use.
  ["GET", "/app/installations"],
  ["POST", "/app/installations/{installation_id}/access_tokens"],
  ["GET", "/installation/repositories"],
];

const OUT = new URL("../test/fixtures/github/openapi-operations.json", import.meta.url);

/** Annotation keys dropped from schemas (unless they name a property). */
const ANNOTATIONS = new Set(["description", "example", "examples", "title", "externalDocs"]);

/** A copy of a schema without annotations; keys under `properties` are property names and stay. */
function slim(value, parentKey) {
  if (Array.isArray(value)) return value.map((v) => slim(v, undefined));
  if (value === null || typeof value !== "object") return value;
  if ("$ref" in value) throw new Error(`unresolved $ref ${value.$ref}: pass the *.deref.json file`);
  const out = {};
  for (const [key, v] of Object.entries(value)) {
    if (parentKey !== "properties" && ANNOTATIONS.has(key)) continue;
    out[key] = slim(v, key);
  }
  return out;
}

function extract(spec, method, path) {
  const op = spec.paths[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`${method} ${path} is not in the description`);
  const parameters = (op.parameters ?? [])
    .filter((p) => p.in === "path" || p.in === "query")
    .map((p) => ({
      name: p.name,
      in: p.in,
      required: p.required === true,
      schema: slim(p.schema ?? {}),
      ...(p["x-multi-segment"] ? { multiSegment: true } : {}),
    }));
  const json = op.requestBody?.content?.["application/json"];
  const requestBody = op.requestBody ? { required: op.requestBody.required === true, schema: json ? slim(json.schema) : {} } : undefined;
  return {
    method,
    path,
    operationId: op.operationId,
    parameters,
    ...(requestBody ? { requestBody } : {}),
    responses: Object.keys(op.responses ?? {}).sort(),
    responseSchemas: Object.fromEntries(
      Object.entries(op.responses ?? {})
        .filter(([status, r]) => status.startsWith("2") && r.content?.["application/json"]?.schema)
        .map(([status, r]) => [status, slim(r.content["application/json"].schema)]),
    ),
  };
}

function main() {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: node scripts/extract-github-openapi.mjs <path to api.github.com.deref.json>");
    process.exit(2);
  }
  const spec = JSON.parse(readFileSync(file, "utf8"));
  const operations = OPERATIONS.map(([method, path]) => extract(spec, method, path));
  const pkg = new URL("../package.json", new URL(file, `file://${process.cwd()}/`));
  const version = existsSync(pkg) ? JSON.parse(readFileSync(pkg, "utf8")).version : "unknown version";
  const fixture = { source: `@octokit/openapi ${version}, ${file.split("/").pop()}`, openapi: spec.openapi, operations };
  // One operation per line: small, and a diff still says which operation changed.
  const head = JSON.stringify({ source: fixture.source, openapi: fixture.openapi });
  const text = `${head.slice(0, -1)},\n"operations": [\n${operations.map((o) => JSON.stringify(o)).join(",\n")}\n]}\n`;
  writeFileSync(OUT, text);
  console.log(`wrote ${operations.length} operations (${Math.round(text.length / 1024)} kB) to ${OUT.pathname}`);
}

main();
