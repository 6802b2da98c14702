/** Small Markdown helpers for bodies the router writes. Values from config go through `code`; agent text through outbound.ts first. */

/** Inline code; backticks and line breaks cannot end it early. */
export function code(text: string): string {
  return `\`${text.replace(/[`\n\r]/g, " ")}\``;
}

/** A table cell: pipes escaped, one line. */
export function cell(text: string): string {
  return text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
}

/** Every line quoted, so an unclosed code fence or list in agent text ends with the quote. */
export function quote(text: string): string {
  return text
    .split("\n")
    .map((line) => (line === "" ? ">" : `> ${line}`))
    .join("\n");
}

/** A link when the URL is a plain http(s) URL; otherwise the text alone (no markup can be smuggled in a destination). */
export function link(text: string, url: string | undefined): string {
  if (url === undefined || !/^https?:\/\/[^\s<>()]+$/.test(url)) return text;
  return `[${text}](${url})`;
}

/** `2026-11-01 09:30 UTC` */
export function formatUtc(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC` : iso;
}
