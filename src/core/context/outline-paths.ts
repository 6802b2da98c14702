import { estimateTokens } from "./tokens.ts";

interface Node {
  name: string;
  depth: number;
  files: number;
  children: Map<string, Node> | null; // null for a file
  shown: boolean;
}

function buildTree(paths: readonly string[]): Node {
  const root: Node = { name: "", depth: -1, files: 0, children: new Map(), shown: true };
  for (const path of paths) {
    let node = root;
    const parts = path.split("/");
    node.files++;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const isFile = i === parts.length - 1;
      let next = node.children!.get(part);
      if (!next) {
        next = { name: part, depth: i, files: 0, children: isFile ? null : new Map(), shown: false };
        node.children!.set(part, next);
      }
      if (!isFile) next.files++;
      node = next;
    }
  }
  return root;
}

function line(node: Node): string {
  return `${"  ".repeat(node.depth)}${node.name}${node.children ? `/ (${node.files} file${node.files === 1 ? "" : "s"})` : ""}`;
}

function sorted(node: Node): Node[] {
  return [...node.children!.values()].sort((a, b) => (a.children ? 0 : 1) - (b.children ? 0 : 1) || a.name.localeCompare(b.name));
}

/**
 * A directory outline of a repository's files that fits in `maxTokens`: shallow entries first
 * (breadth-first, so the top level always shows), printed as an indented tree; a directory whose
 * contents did not all fit shows its file count. Linear in the number of paths.
 */
export function outlinePaths(paths: readonly string[], maxTokens: number): { text: string; shown: number; total: number } {
  const root = buildTree(paths);
  let used = 0;
  let shown = 0;
  const queue: Node[] = sorted(root);
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!;
    const cost = estimateTokens(line(node)) + 1;
    if (used + cost > maxTokens) break;
    used += cost;
    node.shown = true;
    if (!node.children) shown++;
    if (node.children) queue.push(...sorted(node));
  }
  const lines: string[] = [];
  const walk = (node: Node): void => {
    for (const child of sorted(node)) {
      if (!child.shown) continue;
      lines.push(line(child));
      if (child.children) walk(child);
    }
  };
  walk(root);
  return { text: lines.join("\n"), shown, total: paths.length };
}
