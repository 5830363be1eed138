import type { Classification } from '../../db/schema/types.js';
import { markingNames } from '../../mcp-server/lineage/layout-text.js';

/** US classification banner colours, with the text colour that reads on each. */
export const markings: Record<Classification, { name: string; fill: string; ink: string }> = {
  U: { name: markingNames.U, fill: '#007A33', ink: '#FFFFFF' },
  C: { name: markingNames.C, fill: '#0033A0', ink: '#FFFFFF' },
  S: { name: markingNames.S, fill: '#C8102E', ink: '#FFFFFF' },
  TS: { name: markingNames.TS, fill: '#FF8C00', ink: '#000000' },
};

export const unmarked = { name: 'UNMARKED', fill: '#E2E8F0', ink: '#475569' };

export const markingOrder: Classification[] = ['U', 'C', 'S', 'TS'];

/** Quality bands: good, fair, poor. */
export function qualityColour(score: number): string {
  if (score >= 80) return '#15803D';
  if (score >= 50) return '#B45309';
  return '#B91C1C';
}

export const colours = {
  ink: '#0F172A',
  muted: '#475569',
  faint: '#64748B',
  border: '#CBD5E1',
  card: '#FFFFFF',
  shadow: '#0F172A',
  band: '#F8FAFC',
  focus: '#6D28D9',
  focusTint: '#F5F3FF',
  edge: '#94A3B8',
  edgeStrong: '#475569',
  track: '#E2E8F0',
  warning: '#B45309',
};
