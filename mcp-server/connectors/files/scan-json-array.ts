import { FileFormatError } from './file-description.js';

/** Largest single array element, or whole top-level object, held in memory at once. */
export const MAX_JSON_VALUE_CHARS = 256 * 1024 * 1024;

export type JsonLayout = 'array' | 'object';

type State = 'start' | 'first' | 'next' | 'element' | 'after' | 'end' | 'document';

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const NEWLINE = 10;

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9;
}

function shown(code: number): string {
  return JSON.stringify(String.fromCharCode(code));
}

/** Parses one element's text, turning a syntax error into a message that says where the element starts. */
export function parseJsonAt(text: string, line: number, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    const short = detail.length > 200 ? `${detail.slice(0, 200)}...` : detail;
    throw new FileFormatError(`line ${line}: ${what} is not valid JSON: ${short}`, { cause });
  }
}

/**
 * Streams a JSON file whose top level is an array, handing each element to `onElement` with the line it
 * starts on, so only one element is in memory at a time. A top-level object is handed over whole, once.
 * Structural errors (missing commas, trailing commas, a file that ends before the closing bracket) report
 * the line where they occur.
 */
export async function scanJsonArray(
  chunks: AsyncIterable<string>,
  onElement: (value: unknown, line: number, text: string) => void,
): Promise<JsonLayout> {
  let state: State = 'start';
  let line = 1;
  let parts: string[] = [];
  let partsLength = 0;
  let elementLine = 1;
  let elements = 0;
  let depth = 0;
  let inString = false;
  let escaped = false;

  const finish = (chunk: string, start: number, end: number) => {
    const text = parts.length === 0 ? chunk.slice(start, end) : parts.join('') + chunk.slice(start, end);
    parts = [];
    partsLength = 0;
    elements++;
    onElement(parseJsonAt(text, elementLine, `element ${elements} of the array`), elementLine, text);
  };
  const keep = (piece: string) => {
    partsLength += piece.length;
    if (partsLength > MAX_JSON_VALUE_CHARS) {
      const what = state === 'document' ? 'the top-level object' : `element ${elements + 1} (line ${elementLine})`;
      throw new FileFormatError(`${what} is larger than ${MAX_JSON_VALUE_CHARS / 1024 / 1024} MiB of text`);
    }
    parts.push(piece);
  };

  for await (const chunk of chunks) {
    let start = 0;
    if (state === 'document') {
      keep(chunk);
      continue;
    }
    for (let i = 0; i < chunk.length; i++) {
      const code = chunk.charCodeAt(i);
      if (state === 'element') {
        if (inString) {
          if (escaped) escaped = false;
          else if (code === BACKSLASH) escaped = true;
          else if (code === QUOTE) inString = false;
          else if (code === NEWLINE) line++;
          continue;
        }
        if (code === QUOTE) inString = true;
        else if (code === OPEN_BRACE || code === OPEN_BRACKET) depth++;
        else if ((code === CLOSE_BRACE || code === CLOSE_BRACKET) && depth > 0) depth--;
        else if (depth === 0 && (code === COMMA || code === CLOSE_BRACKET || isSpace(code))) {
          finish(chunk, start, i);
          state = code === COMMA ? 'next' : code === CLOSE_BRACKET ? 'end' : 'after';
        }
        if (code === NEWLINE) line++;
        continue;
      }
      if (code === NEWLINE) line++;
      if (isSpace(code)) continue;
      if (state === 'start') {
        if (code === OPEN_BRACKET) state = 'first';
        else if (code === OPEN_BRACE) {
          state = 'document';
          start = i;
          break;
        } else {
          throw new FileFormatError(`line ${line}: expected a JSON array or object, found ${shown(code)}`);
        }
      } else if (state === 'first' || state === 'next') {
        if (code === CLOSE_BRACKET && state === 'first') state = 'end';
        else if (code === CLOSE_BRACKET || code === COMMA) {
          throw new FileFormatError(`line ${line}: unexpected ${shown(code)} after element ${elements} of the array`);
        } else {
          state = 'element';
          start = i;
          elementLine = line;
          depth = code === OPEN_BRACE || code === OPEN_BRACKET ? 1 : 0;
          inString = code === QUOTE;
          escaped = false;
        }
      } else if (state === 'after') {
        if (code === COMMA) state = 'next';
        else if (code === CLOSE_BRACKET) state = 'end';
        else {
          throw new FileFormatError(
            `line ${line}: expected "," or "]" after element ${elements} of the array, found ${shown(code)}`,
          );
        }
      } else {
        throw new FileFormatError(`line ${line}: unexpected ${shown(code)} after the array's closing "]"`);
      }
    }
    if (state === 'element' || state === 'document') keep(chunk.slice(start));
  }

  if (state === 'document') {
    const text = parts.join('');
    onElement(parseJsonAt(text, 1, 'the top-level object'), 1, text);
    return 'object';
  }
  if (state === 'start') throw new FileFormatError('the file is empty: expected a JSON array or object');
  if (state !== 'end') {
    const where = state === 'element' ? `element ${elements + 1}, which starts on line ${elementLine},` : 'the array';
    throw new FileFormatError(`the file ends before ${where} is complete (line ${line}); is it truncated?`);
  }
  return 'array';
}

/**
 * The keys of a JSON object's text in the order they are written. JavaScript objects list integer-like keys
 * ("1962", "2020") first, whatever the file says, so column order must come from the text. Expects valid JSON.
 */
export function topLevelKeys(objectText: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < objectText.length; i++) {
    const code = objectText.charCodeAt(i);
    if (code === QUOTE) {
      const start = i;
      for (i++; objectText.charCodeAt(i) !== QUOTE; i++) if (objectText.charCodeAt(i) === BACKSLASH) i++;
      if (depth === 1 && expectKey) {
        keys.push(JSON.parse(objectText.slice(start, i + 1)) as string);
        expectKey = false;
      }
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      depth++;
      expectKey = depth === 1 && code === OPEN_BRACE;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
    } else if (code === COMMA && depth === 1) {
      expectKey = true;
    }
  }
  return keys;
}
