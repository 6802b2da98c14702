import { defineConfig } from "vitest/config";

// The suite runs in a zone that is neither UTC nor a whole hour from it, with daylight saving
// (UTC-03:30/-02:30), so that any schedule or date code that reads the host's local time instead of
// UTC fails here ("local vs UTC" in the reliability targets). Workers and the processes tests spawn
// inherit it.
process.env["TZ"] = "America/St_Johns";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
