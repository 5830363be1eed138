import { describe, expect, it } from 'vitest';
import { scanJsonArray, topLevelKeys } from './scan-json-array.js';

async function* chunksOf(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function scan(text: string, size = text.length || 1) {
  const elements: { value: unknown; line: number }[] = [];
  const layout = await scanJsonArray(chunksOf(text, size), (value, line) => elements.push({ value, line }));
  return { layout, elements };
}

const TRICKY = `[
  {"a": "x, y] } {", "b": [1, [2, 3]]},
  {"a": "quote \\" and backslash \\\\", "b": null},

  "scalar", 12, true, null, [ ],
  {"nested": {"deep": [{"k": "]"}]}}
]
`;

describe('scanJsonArray', () => {
  it('yields each element with its line, whatever the chunk boundaries', async () => {
    const whole = await scan(TRICKY);
    expect(whole.layout).toBe('array');
    expect(whole.elements.map((e) => e.value)).toEqual(JSON.parse(TRICKY));
    expect(whole.elements.map((e) => e.line)).toEqual([2, 3, 5, 5, 5, 5, 5, 6]);
    for (const size of [1, 2, 3, 7]) {
      expect(await scan(TRICKY, size), `chunks of ${size}`).toEqual(whole);
    }
  });

  it('hands a top-level object over whole', async () => {
    const { layout, elements } = await scan('{"type": "Topology", "arcs": [[1, 2]]}', 5);
    expect(layout).toBe('object');
    expect(elements).toEqual([{ value: { type: 'Topology', arcs: [[1, 2]] }, line: 1 }]);
  });

  it('accepts an empty array', async () => {
    expect(await scan(' [ ] \n')).toEqual({ layout: 'array', elements: [] });
  });

  it.each([
    ['', /empty/],
    ['  \n ', /empty/],
    ['"just a string"', /line 1: expected a JSON array or object/],
    ['[\n{"a": 1}\n{"a": 2}\n]', /line 3: expected "," or "]" after element 1/],
    ['[\n{"a": 1},\n]', /line 3: unexpected "\]" after element 1/],
    ['[\n{"a": 1},\n{"a": }\n]', /line 3: element 2 of the array is not valid JSON/],
    ['[\n{"a": 1},\n{"a": 2', /element 2, which starts on line 3, is complete.*truncated/],
    ['[{"a": 1}] x', /line 1: unexpected "x" after the array's closing "\]"/],
    ['{"a": 1', /the top-level object is not valid JSON/],
  ])('reports %j with where it went wrong', async (text, message) => {
    await expect(scan(text)).rejects.toThrow(message);
  });
});

describe('topLevelKeys', () => {
  it('lists keys in written order, which Object.keys does not for integer-like keys', () => {
    const text = '{"name": "a", "1990": "-566,000", "nested": {"x": 1, "0": 2}, "TQ": "0", "1962": "0", "q\\"k": 1}';
    expect(Object.keys(JSON.parse(text))[0]).toBe('1962');
    expect(topLevelKeys(text)).toEqual(['name', '1990', 'nested', 'TQ', '1962', 'q"k']);
  });
});
