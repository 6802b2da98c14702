// The fake GitHub server and what tests need to drive it.
export type { FakeGitHub, FakeGitHubOptions, FakeRequest } from "./server.ts";
export { SERVED_OPERATIONS, startFakeGitHub } from "./server.ts";
export type { FaultMatch } from "./faults.ts";
export { Faults } from "./faults.ts";
export type { FakeComment, FakeCommit, FakeIssue, FakeLabel, FakeProject, FakeProjectField, FakeProjectItem, FakePull, FakeReaction, FakeRepository, FakeUser, Permission } from "./records.ts";
export type { FakeStateOptions } from "./state.ts";
export { FakeGitHubState } from "./state.ts";
