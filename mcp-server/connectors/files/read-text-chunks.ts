import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { FileFormatError } from './file-description.js';

const HEAD_BYTES = 64 * 1024;

export type TextEncodingName = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

export interface TextSource {
  path: string;
  /** Bytes in the file. */
  size: number;
  /** From the byte-order mark, else UTF-8 until proven otherwise. */
  encoding: TextEncodingName;
  bom: boolean;
  /** The decoded start of the file (up to 64 KiB), for sniffing delimiters. */
  head: string;
}

/** Bytes that are not valid in the encoding being read. */
export class EncodingError extends FileFormatError {}

/** Reads the start of a file to learn its encoding from a byte-order mark. */
export async function openTextSource(path: string): Promise<TextSource> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(Math.min(HEAD_BYTES, size));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const bytes = buffer.subarray(0, bytesRead);
    let encoding: TextEncodingName = 'utf-8';
    let bom = false;
    if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bom = true;
    else if (bytes[0] === 0xff && bytes[1] === 0xfe) [encoding, bom] = ['utf-16le', true];
    else if (bytes[0] === 0xfe && bytes[1] === 0xff) [encoding, bom] = ['utf-16be', true];
    return { path, size, encoding, bom, head: new TextDecoder(encoding).decode(bytes) };
  } finally {
    await handle.close();
  }
}

/** Streams a file as decoded text (without the byte-order mark), so large files never sit in memory whole. */
export async function* readTextChunks(path: string, encoding: TextEncodingName): AsyncGenerator<string> {
  const decoder = new TextDecoder(encoding, { fatal: true });
  let offset = 0;
  for await (const bytes of createReadStream(path, { highWaterMark: HEAD_BYTES })) {
    const buffer = bytes as Buffer;
    let text: string;
    try {
      text = decoder.decode(buffer, { stream: true });
    } catch (cause) {
      throw new EncodingError(
        `bytes between offsets ${offset} and ${offset + buffer.length} are not valid ${encoding}`,
        {
          cause,
        },
      );
    }
    const nul = text.indexOf('\u0000');
    if (nul >= 0) {
      throw new FileFormatError(
        `the file contains a NUL byte near offset ${offset}, so it is binary, not ${encoding} text`,
      );
    }
    offset += buffer.length;
    if (text) yield text;
  }
  let tail: string;
  try {
    tail = decoder.decode();
  } catch (cause) {
    throw new EncodingError(`the file ends in the middle of a ${encoding} character (truncated?)`, { cause });
  }
  if (tail) yield tail;
}

/**
 * Runs `read` over the file as its detected encoding; when the bytes are not valid UTF-8 and there was no
 * byte-order mark to vouch for it, reads again as Windows-1252, the usual encoding of legacy exports.
 */
export async function readWithEncodingFallback<T>(
  source: TextSource,
  read: (encoding: TextEncodingName) => Promise<T>,
): Promise<{ value: T; encoding: TextEncodingName }> {
  try {
    return { value: await read(source.encoding), encoding: source.encoding };
  } catch (error) {
    if (!(error instanceof EncodingError) || source.bom) throw error;
    return { value: await read('windows-1252'), encoding: 'windows-1252' };
  }
}
