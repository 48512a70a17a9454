/** Files parsed once per version: unchanged files are not parsed again, changed ones always are. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParsedFileCache } from '../../../src/backends/ipam/file-cache.js';
import { removeDir, tempDir } from './fixtures/real-parts.js';

describe('ParsedFileCache', () => {
  let dir: string;
  let parses: string[];
  let cache: ParsedFileCache<string>;
  beforeEach(() => {
    dir = tempDir();
    parses = [];
    cache = new ParsedFileCache(
      (_path, text) => {
        parses.push(text);
        return text.toUpperCase();
      },
      (path, error) => new Error(`cannot read ${path}: ${error.message}`),
    );
  });
  afterEach(() => removeDir(dir));

  it('parses a file once while it stays the same', () => {
    const file = join(dir, 'plan.json');
    writeFileSync(file, 'one');
    for (let i = 0; i < 5; i++) expect(cache.read(file)).toBe('ONE');
    expect(parses).toEqual(['one']);
  });

  it('sees every rewrite, also one of the same size right after a read, and a file renamed over it', () => {
    const file = join(dir, 'plan.json');
    writeFileSync(file, 'aaa');
    expect(cache.read(file)).toBe('AAA');
    writeFileSync(file, 'bbb');
    expect(cache.read(file)).toBe('BBB');
    writeFileSync(join(dir, 'next'), 'ccc');
    renameSync(join(dir, 'next'), file);
    expect(cache.read(file)).toBe('CCC');
    expect(parses).toEqual(['aaa', 'bbb', 'ccc']);
  });

  it('reports a file it cannot read, and keeps nothing when parsing fails', () => {
    expect(() => cache.read(join(dir, 'missing'))).toThrow(/cannot read .*missing: ENOENT/);
    const failing = new ParsedFileCache<string>(
      () => {
        throw new Error('bad plan');
      },
      (_path, error) => error,
    );
    writeFileSync(join(dir, 'bad'), 'x');
    expect(() => failing.read(join(dir, 'bad'))).toThrow('bad plan');
    expect(() => failing.read(join(dir, 'bad'))).toThrow('bad plan');
  });
});
