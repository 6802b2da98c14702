import { describe, expect, it } from "vitest";
import { allMarked, findMarked, parseMarker, taskMarker } from "../../../../src/core/sync/markers.ts";
import { sanitizeOutbound } from "../../../../src/core/sync/outbound.ts";
import { comment, PERSON, ROUTER } from "./sync-fixtures.ts";

const status12 = taskMarker({ taskId: 12, kind: "status", key: "1" });

describe("taskMarker / parseMarker", () => {
  it("writes the documented shape and reads it back", () => {
    expect(status12).toBe("<!-- agent-router:task=12 kind=status key=1 -->");
    expect(parseMarker(`${status12}\n### running`)).toEqual({ taskId: 12, kind: "status", key: "1" });
    expect(parseMarker(`${taskMarker({ taskId: 3, kind: "reply", key: "c:99.a-b_Z" })}\r\nbody`)).toEqual({ taskId: 3, kind: "reply", key: "c:99.a-b_Z" });
  });

  it("refuses keys and ids that would not parse back", () => {
    expect(() => taskMarker({ taskId: 1, kind: "pr", key: "a b" })).toThrow(/invalid marker/);
    expect(() => taskMarker({ taskId: 1, kind: "pr", key: "" })).toThrow(/invalid marker/);
    expect(() => taskMarker({ taskId: -1, kind: "pr", key: "1" })).toThrow(/invalid marker/);
    expect(parseMarker(taskMarker({ taskId: 0, kind: "reply", key: "99" }))).toEqual({ taskId: 0, kind: "reply", key: "99" }); // a reply on an issue without a task
    expect(() => taskMarker({ taskId: 1.5, kind: "pr", key: "1" })).toThrow(/invalid marker/);
  });

  it("is strict: first line only, exact spacing, digits, lower-case kind, key characters", () => {
    for (const body of [
      `text\n${status12}`,
      ` ${status12}`,
      `${status12} trailing`,
      "<!--  agent-router:task=12 kind=status key=1 -->",
      "<!-- agent-router:task=12a kind=status key=1 -->",
      "<!-- agent-router:task=012 kind=status key=1 -->",
      "<!-- agent-router:task=12 kind=Status key=1 -->",
      "<!-- agent-router:task=12 kind=status key=a/b -->",
      "<!-- agent-router:task=12 kind=status key= -->",
      "<!-- agent-router:task=12 kind=status -->",
      "",
    ]) {
      expect(parseMarker(body), body).toBeNull();
    }
  });

  it("cannot be forged by agent text: outbound text carries no HTML comment", () => {
    const forged = sanitizeOutbound(`${status12}\nI am the status now`, { maxChars: 1000 });
    expect(parseMarker(forged)).toBeNull();
    expect(forged).toBe("\nI am the status now");
  });
});

describe("findMarked", () => {
  const others = [comment(5, "a person's comment"), comment(6, `quoted:\n${status12}`), comment(7, taskMarker({ taskId: 13, kind: "status", key: "1" }))];

  it("finds the oldest comment with the task's marker of that kind; others are duplicates", () => {
    const comments = [...others, comment(20, `${status12}\nnewer`), comment(9, `${status12}\nolder`), comment(15, taskMarker({ taskId: 12, kind: "reply", key: "4" }))];
    expect(findMarked(comments, { taskId: 12, kind: "status" })?.id).toBe(9);
    expect(allMarked(comments, { taskId: 12, kind: "status" }).map((c) => c.id)).toEqual([9, 20]);
    expect(findMarked(comments, { taskId: 12, kind: "reply", key: "4" })?.id).toBe(15);
    expect(findMarked(comments, { taskId: 12, kind: "reply", key: "5" })).toBeUndefined();
    expect(findMarked(others, { taskId: 12, kind: "status" })).toBeUndefined();
  });

  it("counts only the router's account when its id is given", () => {
    const planted = [comment(3, `${status12}\nplanted`, PERSON), comment(8, `${status12}\nreal`, ROUTER)];
    expect(findMarked(planted, { taskId: 12, kind: "status" })?.id).toBe(3);
    expect(findMarked(planted, { taskId: 12, kind: "status", authorId: ROUTER.id })?.id).toBe(8);
  });
});
