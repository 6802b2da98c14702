// Checks REST requests and GraphQL documents against GitHub's published descriptions: the REST
// operations extracted into test/fixtures/github/openapi-operations.json (scripts/extract-github-openapi.mjs)
// and @octokit/graphql-schema's SDL. The fake GitHub server runs every request through these, and
// tests may call them on what an adapter sends, so neither side can drift from GitHub's shapes.
//
// Stricter than GitHub in one way: a body property the operation does not describe is a problem
// (GitHub ignores most of them, which is how a misspelt field goes unnoticed).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { schema as graphqlSchemaPackage } from "@octokit/graphql-schema";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { GraphQLSchema, OperationDefinitionNode } from "graphql";
import { buildSchema, getVariableValues, Kind, parse, validate } from "graphql";

export interface RestParameter {
  name: string;
  in: "path" | "query";
  required: boolean;
  schema: Record<string, unknown>;
  /** A path parameter that may contain slashes (`{ref}`, `{path}`). */
  multiSegment?: boolean;
}

export interface RestOperation {
  method: string;
  /** The path template, e.g. /repos/{owner}/{repo}/issues/{issue_number}. */
  path: string;
  operationId: string;
  parameters: RestParameter[];
  requestBody?: { required: boolean; schema: Record<string, unknown> };
  /** Documented status codes. */
  responses: string[];
  /** JSON schemas of the 2xx answers, by status. */
  responseSchemas: Record<string, Record<string, unknown>>;
}

interface Fixture {
  source: string;
  operations: RestOperation[];
}

// Beside this file under vitest; from the repository root when bundled elsewhere (npm run bench).
const BESIDE = new URL("../fixtures/github/openapi-operations.json", import.meta.url);
const FIXTURE = existsSync(BESIDE) ? BESIDE : join(process.cwd(), "test/fixtures/github/openapi-operations.json");

let fixture: Fixture | undefined;

/** The REST operations the fixture describes. */
export function restOperations(): readonly RestOperation[] {
  fixture ??= JSON.parse(readFileSync(FIXTURE, "utf8")) as Fixture;
  return fixture.operations;
}

// Parameters arrive as text: the parameter checker coerces "3" to 3 before checking the type.
const paramAjv = new Ajv({ strict: false, validateFormats: false, allErrors: true, coerceTypes: "array" });
const bodyAjv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
const compiled = new Map<string, ValidateFunction>();

function compile(ajv: Ajv, key: string, schema: Record<string, unknown>): ValidateFunction {
  let fn = compiled.get(key);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(key, fn);
  }
  return fn;
}

/**
 * OpenAPI 3.0 schema → JSON Schema for Ajv: `nullable: true` becomes a null alternative. With `close`,
 * objects that list their properties and say nothing of others get `additionalProperties: false`
 * (not under allOf, where that would reject the other branches' properties); with `loose`, nothing is
 * required (answers are checked for the types of the fields present).
 */
function toJsonSchema(schema: unknown, how: { close?: boolean; loose?: boolean }, underAllOf = false): unknown {
  if (Array.isArray(schema)) return schema.map((s) => toJsonSchema(s, how, underAllOf));
  if (schema === null || typeof schema !== "object") return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "nullable" || (how.loose && key === "required" && Array.isArray(value))) continue;
    if (key === "properties" && value && typeof value === "object") {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, s]) => [name, toJsonSchema(s, how)]));
    } else {
      out[key] = toJsonSchema(value, how, key === "allOf");
    }
  }
  if (how.close && "properties" in out && !("additionalProperties" in out) && !underAllOf) out.additionalProperties = false;
  if ((schema as { nullable?: unknown }).nullable !== true) return out;
  if (typeof out.type === "string" && !("enum" in out)) return { ...out, type: [out.type, "null"] };
  return { anyOf: [out, { type: "null" }] };
}

function ajvProblems(where: string, errors: ErrorObject[] | null | undefined): string[] {
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    const extra = e.keyword === "additionalProperties" ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : "";
    const allowed = e.keyword === "enum" ? ` (${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)})` : "";
    seen.add(`${where}${e.instancePath || ""} ${e.message ?? e.keyword}${extra}${allowed}`);
  }
  return [...seen].slice(0, 10);
}

export interface RestMatch {
  operation: RestOperation;
  /** Decoded path parameters. */
  params: Record<string, string>;
  query: URLSearchParams;
}

const templateCache = new Map<string, { regex: RegExp; names: string[]; literals: number }>();

function template(path: string, parameters: RestParameter[]) {
  let t = templateCache.get(path);
  if (!t) {
    const names: string[] = [];
    const multi = new Set(parameters.filter((p) => p.multiSegment).map((p) => p.name));
    const source = path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, (_, name: string) => {
      names.push(name);
      return multi.has(name) ? "(.+)" : "([^/]+)";
    });
    t = { regex: new RegExp(`^${source}/?$`), names, literals: path.split("/").filter((s) => s && !s.startsWith("{")).length };
    templateCache.set(path, t);
  }
  return t;
}

/** The operation whose template matches `method` and the actual `path` (query allowed); the most literal template wins. */
export function matchRestOperation(method: string, path: string): RestMatch | null {
  const url = new URL(path, "http://github.test");
  let best: (RestMatch & { literals: number }) | null = null;
  for (const operation of restOperations()) {
    if (operation.method !== method.toUpperCase()) continue;
    const t = template(operation.path, operation.parameters);
    const m = t.regex.exec(url.pathname);
    if (!m || (best && best.literals >= t.literals)) continue;
    const params: Record<string, string> = {};
    t.names.forEach((name, i) => (params[name] = safeDecode(m[i + 1] ?? "")));
    best = { operation, params, query: url.searchParams, literals: t.literals };
  }
  if (!best) return null;
  const { literals: _literals, ...match } = best;
  return match;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function checkParameter(op: RestOperation, p: RestParameter, raw: string | string[]): string[] {
  const validateParam = compile(paramAjv, `param ${op.method} ${op.path} ${p.in} ${p.name}`, { type: "object", properties: { v: toJsonSchema(p.schema, {}) } });
  const value = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
  return validateParam({ v: value }) ? [] : ajvProblems(`${p.in} parameter ${p.name}`, validateParam.errors).map((s) => s.replace(`${p.name}/v`, p.name));
}

export interface RestRequest {
  method: string;
  /** The path as sent, with its query: /repos/o/r/issues/3/comments?per_page=100. */
  path: string;
  /** The parsed JSON body; undefined when none was sent. */
  body?: unknown;
}

/** Problems with a REST request, as GitHub's OpenAPI description sees them; empty when it is fine. */
export function checkRestRequest(req: RestRequest): string[] {
  const match = matchRestOperation(req.method, req.path);
  if (!match) return [`unknown endpoint: ${req.method.toUpperCase()} ${req.path.split("?")[0]}`];
  const { operation: op, params, query } = match;
  const where = `${op.method} ${op.path}`;
  const problems: string[] = [];
  for (const p of op.parameters) {
    if (p.in === "path") {
      problems.push(...checkParameter(op, p, params[p.name] ?? ""));
      continue;
    }
    const values = query.getAll(p.name);
    if (values.length === 0) {
      if (p.required) problems.push(`missing required query parameter ${p.name}`);
      continue;
    }
    problems.push(...checkParameter(op, p, values));
  }
  const known = new Set(op.parameters.filter((p) => p.in === "query").map((p) => p.name));
  for (const name of new Set(query.keys())) if (!known.has(name)) problems.push(`unknown query parameter ${name}`);

  const hasBody = req.body !== undefined && req.body !== null;
  if (!op.requestBody) {
    if (hasBody) problems.push("takes no request body");
  } else if (!hasBody) {
    if (op.requestBody.required) problems.push("missing request body");
  } else {
    const validateBody = compile(bodyAjv, `body ${where}`, toJsonSchema(op.requestBody.schema, { close: true }) as Record<string, unknown>);
    if (!validateBody(req.body)) problems.push(...ajvProblems("body", validateBody.errors));
  }
  return problems.map((p) => `${where}: ${p}`);
}

/** Problems with an answer: an undocumented status, or a 2xx body whose present fields have the wrong types. */
export function checkRestResponse(res: { method: string; path: string; status: number; body: unknown }): string[] {
  const match = matchRestOperation(res.method, res.path);
  if (!match) return [`unknown endpoint: ${res.method} ${res.path}`];
  const op = match.operation;
  const where = `${op.method} ${op.path}`;
  if (!op.responses.includes(String(res.status))) return [`${where} does not document status ${res.status} (documented: ${op.responses.join(", ")})`];
  const schema = op.responseSchemas[String(res.status)];
  if (!schema || res.body === undefined) return [];
  const validateRes = compile(bodyAjv, `response ${where} ${res.status}`, toJsonSchema(schema, { loose: true }) as Record<string, unknown>);
  return validateRes(res.body) ? [] : ajvProblems(`${where} ${res.status} answer`, validateRes.errors);
}

let graphqlSchema: GraphQLSchema | undefined;

/** GitHub's GraphQL schema, built once. The SDL defines one field twice, so it is built without SDL validation. */
export function githubGraphqlSchema(): GraphQLSchema {
  graphqlSchema ??= buildSchema(graphqlSchemaPackage.idl, { assumeValidSDL: true });
  return graphqlSchema;
}

/** The operation a request runs: the named one, or the only one. */
export function selectOperation(document: ReturnType<typeof parse>, operationName?: string): OperationDefinitionNode | string {
  const ops = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operationName !== undefined) return ops.find((o) => o.name?.value === operationName) ?? `no operation named ${operationName}`;
  if (ops.length !== 1) return `the document has ${ops.length} operations and no operationName`;
  return ops[0]!;
}

/** Problems with a GraphQL request: syntax, validation against GitHub's schema, and variables that do not coerce. */
export function checkGraphql(document: string, variables: Record<string, unknown> = {}, operationName?: string): string[] {
  let ast: ReturnType<typeof parse>;
  try {
    ast = parse(document);
  } catch (err) {
    return [`GraphQL syntax: ${(err as Error).message}`];
  }
  const schema = githubGraphqlSchema();
  const errors = validate(schema, ast);
  if (errors.length > 0) return errors.map((e) => `GraphQL validation: ${e.message}`);
  const op = selectOperation(ast, operationName);
  if (typeof op === "string") return [`GraphQL: ${op}`];
  const defs = op.variableDefinitions ?? [];
  const problems: string[] = [];
  const coerced = getVariableValues(schema, defs, variables, { maxErrors: 20 });
  if (coerced.errors) problems.push(...coerced.errors.map((e) => `GraphQL variables: ${e.message}`));
  const defined = new Set(defs.map((d) => d.variable.name.value));
  for (const name of Object.keys(variables)) if (!defined.has(name)) problems.push(`GraphQL variables: $${name} is not defined by the operation`);
  return problems;
}
