import type { DiscoveredColumn } from '../types.js';

/** What a format reader learned from one file's content; the connector adds path, size and dates. */
export interface FileDescription {
  rowCount: number;
  columns: DiscoveredColumn[];
  properties: Record<string, unknown>;
}

/** A problem with one file's content; its message says what is wrong and where, and becomes a DiscoveryError. */
export class FileFormatError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FileFormatError';
  }
}
