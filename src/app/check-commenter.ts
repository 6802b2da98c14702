import type { CommenterCheck } from "../core/commands/authorize.ts";
import type { GitHub } from "../core/github-port.ts";

/** How long the permission API may take before the command is refused (fail closed). */
export const PERMISSION_TIMEOUT_MS = 10_000;

/**
 * Asks GitHub for a commenter's permission. Never throws: an error or a timeout comes back as
 * `{ error }`, which refuses the command (fail closed) instead of guessing.
 */
export async function checkCommenter(github: GitHub, login: string, timeoutMs = PERMISSION_TIMEOUT_MS): Promise<CommenterCheck> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<CommenterCheck>((resolve) => {
    timer = setTimeout(() => resolve({ error: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([github.permission(login).then((permission): CommenterCheck => ({ permission })), timeout]);
  } catch (err) {
    const status = (err as { details?: { status?: unknown } }).details?.status;
    return { error: typeof status === "number" ? `HTTP ${status}` : err instanceof Error ? err.message.slice(0, 200) : "unknown error" };
  } finally {
    clearTimeout(timer);
  }
}
