// GitHub's webhook signature: X-Hub-Signature-256 is `sha256=` and the HMAC-SHA256 of the raw request
// body, keyed by the webhook secret, in lowercase hex. Checked on the bytes as received (never
// re-serialised JSON), compared in constant time, against the current secret and any previous ones
// still accepted while a rotation is under way. The SHA-1 header (X-Hub-Signature) is never enough.
import { createHmac, timingSafeEqual } from "node:crypto";

export type SignatureCheck = { ok: true; secretIndex: number } | { ok: false; why: string };

const SIGNATURE = /^sha256=([0-9a-f]{64})$/;

/**
 * `secrets[0]` is the current secret, the rest previous ones. `secretIndex` says which matched (a
 * delivery signed with a previous secret means GitHub's side has not been rotated yet).
 */
export function verifySignature(secrets: readonly string[], body: Uint8Array, signature256: string | undefined, signature1?: string): SignatureCheck {
  if (signature256 === undefined || signature256 === "") {
    return { ok: false, why: signature1 ? "the delivery is signed with SHA-1 only (X-Hub-Signature); X-Hub-Signature-256 is required" : "the delivery has no X-Hub-Signature-256 header" };
  }
  const m = SIGNATURE.exec(signature256);
  if (!m) return { ok: false, why: "X-Hub-Signature-256 is not `sha256=` followed by 64 lowercase hex digits" };
  const given = Buffer.from(m[1]!, "hex");
  let matched = -1;
  // Every secret is tried (no early exit), so the time taken does not say which one matched.
  secrets.forEach((secret, i) => {
    const want = createHmac("sha256", secret).update(body).digest();
    if (timingSafeEqual(want, given) && matched === -1) matched = i;
  });
  return matched === -1 ? { ok: false, why: "the signature does not match the body with any configured webhook secret" } : { ok: true, secretIndex: matched };
}

/** The header GitHub would send for `body` (tests, benchmarks, the load generator). */
export function signBody(secret: string, body: Uint8Array | string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}
