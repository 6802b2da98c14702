/**
 * Untrusted text goes into a prompt only inside a block whose delimiters carry a random per-run
 * boundary (at least 128 bits, made by the caller). The text cannot close the block early: any copy
 * of the boundary inside it is replaced, and so is anything shaped like one of our delimiters.
 */

export const BOUNDARY_PATTERN = /^[0-9a-f]{32,64}$/;

const DELIMITER_SHAPE = /<\/?\s*untrusted[-_\s]*[0-9a-z]*[^>]*>/gi;

export function openTag(boundary: string, source: string): string {
  return `<untrusted-${boundary} source="${source.replace(/[^\w .:#/-]/g, "")}">`;
}

export function closeTag(boundary: string): string {
  return `</untrusted-${boundary}>`;
}

/** Neutralises the boundary and delimiter look-alikes inside `text`. */
export function neutralizeDelimiters(text: string, boundary: string): string {
  // Look-alikes first: dropping their angle brackets could join two halves of the boundary, which the
  // second step then removes. "[boundary removed]" is not hex, so it cannot form a new copy.
  return text.replace(DELIMITER_SHAPE, (m) => `[${m.slice(1, -1).replace(/[<>]/g, "")}]`).split(boundary).join("[boundary removed]");
}

/** Wraps already-sanitised text in an untrusted block. */
export function wrapUntrusted(text: string, boundary: string, source: string): string {
  if (!BOUNDARY_PATTERN.test(boundary)) throw new Error(`a boundary is 32–64 lower-case hex digits, got "${boundary}"`);
  return `${openTag(boundary, source)}\n${neutralizeDelimiters(text, boundary)}\n${closeTag(boundary)}`;
}

/** Removes every untrusted block, leaving the trusted text around them; for checks and tests. */
export function trustedPart(prompt: string, boundary: string): string {
  const open = `<untrusted-${boundary} `;
  const close = closeTag(boundary);
  let out = "";
  let at = 0;
  for (;;) {
    const start = prompt.indexOf(open, at);
    if (start < 0) return out + prompt.slice(at);
    const end = prompt.indexOf(close, start);
    if (end < 0) throw new Error("an untrusted block is not closed");
    out += prompt.slice(at, start);
    at = end + close.length;
  }
}
