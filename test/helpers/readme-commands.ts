import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface DocCommand {
  /** The command as written, without `npx` and without its trailing comment. */
  text: string;
  /** The arguments after `dataops`, as a shell splits them. */
  args: string[];
  /** Where it is written: `README.md:42`. */
  where: string;
}

/**
 * The `dataops …` / `npx dataops …` lines of a markdown file's shell blocks: every ```sh block of the README
 * (`all`), or only blocks marked ```sh runnable elsewhere, so a doc can still show commands that need a
 * target of the reader's own.
 */
export function commandsIn(file: string, label: string, all: boolean): DocCommand[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const commands: DocCommand[] = [];
  let inBlock = false;
  let runnable = false;
  lines.forEach((line, index) => {
    const fence = /^```(.*)$/.exec(line);
    if (fence) {
      const info = fence[1]!.trim().split(/\s+/);
      runnable = !inBlock && info[0] === 'sh' && (all || info.includes('runnable'));
      inBlock = !inBlock;
      return;
    }
    if (!inBlock || !runnable) return;
    const words = shellWords(line.trim());
    const start = words[0] === 'npx' ? 1 : 0;
    if (words[start] !== 'dataops') return;
    const args = words.slice(start + 1);
    commands.push({ text: ['dataops', ...args.map(quote)].join(' '), args, where: `${label}:${index + 1}` });
  });
  return commands;
}

/** The README's commands, then those of runnable blocks in docs/*.md, each command once. */
export function documentedCommands(root: string): DocCommand[] {
  const docs = readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .flatMap((f) => commandsIn(path.join(root, 'docs', f), `docs/${f}`, false));
  const seen = new Set<string>();
  return [...commandsIn(path.join(root, 'README.md'), 'README.md', true), ...docs].filter((c) => {
    if (seen.has(c.text)) return false;
    seen.add(c.text);
    return true;
  });
}

/** Splits a command line as sh does for plain words, single and double quotes; `#` after a space ends it. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quoteChar: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoteChar) {
      if (c === quoteChar) quoteChar = null;
      else word += c;
    } else if (c === '"' || c === "'") {
      quoteChar = c;
      word ??= '';
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === '#' && word === null) {
      break;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

const quote = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `"${word}"`);
