/** The DSL front end (`*.intent` files): parse, load with includes, format, print. */
export { parseDsl, type DslParseResult } from './parse.js';
export { loadDslFiles } from './load.js';
export { formatDsl } from './format.js';
export { printDsl } from './print.js';
