// Type-aware lint. The block for src/core keeps the core pure: no Node built-ins, no I/O
// libraries, no clock or environment reads (see DESIGN.md, Layers).
import tseslint from "typescript-eslint";

const impureModules = [
  { group: ["node:*"], message: "src/core is pure: no Node built-ins (do I/O in src/app or an adapter)." },
  { group: ["fs", "fs/*", "path", "os", "child_process", "crypto", "http", "https", "net", "url", "util", "stream", "events", "process"], message: "src/core is pure: no Node built-ins." },
  { group: ["@actions/*", "@octokit/*", "probot", "execa", "yaml", "commander"], message: "src/core is pure: only zod and the allowlisted pure libraries may be imported." },
  { group: ["**/app/**", "**/adapters/**", "**/entrypoints/**"], message: "src/core must not depend on outer layers." },
];

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".tmp/**", "schemas/**", "coverage/**", "eslint.config.js", "scripts/*.mjs", "test/fixtures/agents/*.mjs", "examples/*.mjs"] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/only-throw-error": "error",
    },
  },
  {
    files: ["src/core/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: impureModules }],
      "no-restricted-globals": ["error",
        { name: "process", message: "src/core is pure: pass configuration in as data." },
        { name: "setTimeout", message: "src/core is pure: no timers." },
        { name: "fetch", message: "src/core is pure: no network." }],
      "no-restricted-syntax": ["error",
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: "src/core is pure: take the time from the Clock (ctx.now)." },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: "src/core is pure: take the time from the Clock (ctx.now)." },
        { selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']", message: "src/core is pure: pass randomness in." }],
    },
  },
  {
    files: ["src/adapters/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["**/app/**", "**/entrypoints/**"], message: "Adapters depend on the core only." }] }],
    },
  },
  {
    files: ["test/**/*.ts", "bench/**/*.ts", "scripts/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/require-await": "off",
    },
  },
);
