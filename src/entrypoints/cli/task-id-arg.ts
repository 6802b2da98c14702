import { InvalidArgumentError } from "commander";

/** Commander argument parser for task ids; a bad id is a usage error (exit 2). */
export function taskId(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError("a task id is a positive whole number");
  return Number(value);
}
