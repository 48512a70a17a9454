import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import Ajv2020 from 'ajv/dist/2020.js';
import { countProgramParses } from '../src/frontend/dsl/parse.js';
import { canonicalJson } from '../src/ir/canonical.js';
import type { Ir } from '../src/ir/types.js';
import { compileFiles } from '../src/sources/index.js';
import { expectGolden } from './helpers/golden.js';

const root = new URL('..', import.meta.url).pathname;
const examples = readdirSync(join(root, 'examples')).filter((d) => /^\d\d-/.test(d)).sort();
const irSchema = JSON.parse(readFileSync(join(root, 'schemas/ir.schema.json'), 'utf8'));
const validateIr = new Ajv2020({ allErrors: true }).compile(irSchema);

function withoutSources(ir: Ir): Omit<Ir, 'sources'> {
  const { sources: _sources, ...meaning } = ir;
  return meaning;
}

describe('bundled examples', () => {
  it('cover the seven scenarios and the extras', () => {
    expect(examples.length).toBeGreaterThanOrEqual(13);
  });

  for (const name of examples) {
    describe(name, () => {
      const dsl = compileFiles([`examples/${name}/dsl`], root);
      const yaml = compileFiles([`examples/${name}/yaml`], root);

      it('compiles without errors in both forms', () => {
        expect(dsl.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        expect(yaml.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      });

      it('DSL and YAML give the same IR apart from the sources table', () => {
        expect(canonicalJson(withoutSources(yaml.ir!))).toBe(canonicalJson(withoutSources(dsl.ir!)));
      });

      it('IR matches the golden file and the IR schema', () => {
        expectGolden(join(root, 'test/golden/examples', `${name}.ir.json`), `${canonicalJson(dsl.ir, true)}\n`);
        expect(validateIr(dsl.ir), JSON.stringify(validateIr.errors)).toBe(true);
      });

      it('every DSL file parses to exactly one tree', () => {
        for (const f of readdirSync(join(root, 'examples', name, 'dsl'))) {
          const path = join(root, 'examples', name, 'dsl', f);
          expect(countProgramParses(relative(root, path), readFileSync(path, 'utf8')), f).toBe(1);
        }
      });
    });
  }
});
