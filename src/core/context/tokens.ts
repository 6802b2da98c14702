/** A low surrogate right after a high one: the second half of one code point. A lone one is written as U+FFFD, one token. */
function isPairedLow(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 0xdc00 || c > 0xdfff || i === 0) return false;
  const prev = text.charCodeAt(i - 1);
  return prev >= 0xd800 && prev <= 0xdbff;
}

/**
 * A conservative token estimate that needs no tokenizer: a quarter token per ASCII character and
 * one token per other code point (CJK and emoji are about one token each in real tokenizers; most
 * Latin text is 3.5–4.5 characters per token). Summing the estimates of parts never gives less than
 * the estimate of their concatenation, so a sum of section sizes is a safe bound for the whole.
 */
export function estimateTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) ascii++;
    else if (!isPairedLow(text, i)) other++; // a paired low surrogate belongs to the code point before it
  }
  return Math.ceil(ascii / 4) + other;
}

/**
 * The longest prefix of `text` that fits in `tokens`, cut at a line end when one is near, else at a
 * code-point boundary. Returns the text unchanged when it fits.
 */
export function truncateToTokens(text: string, tokens: number): { text: string; cut: boolean } {
  if (estimateTokens(text) <= tokens) return { text, cut: false };
  if (tokens <= 0) return { text: "", cut: true };
  // Walk forward while the prefix still fits; the estimate only grows with the prefix.
  let ascii = 0;
  let other = 0;
  let lo = 0;
  for (; lo < text.length; lo++) {
    const c = text.charCodeAt(lo);
    if (c < 0x80) ascii++;
    else if (!isPairedLow(text, lo)) other++;
    if (Math.ceil(ascii / 4) + other > tokens) break;
  }
  let end = lo;
  const code = text.charCodeAt(end - 1);
  if (end > 0 && code >= 0xd800 && code <= 0xdbff) end--; // never split a surrogate pair
  const newline = text.lastIndexOf("\n", end - 1);
  if (newline > 0 && end - newline < 200) end = newline;
  return { text: text.slice(0, end), cut: true };
}
