/** Selector resolution: groups, tenants and NetworkPolicy peers → shared, memoized address sets. */
export { SelectorResolver, setContains, EVERYTHING, type AddressSet } from './resolver.js';
export { cidrToRange, rangeToCidrs, type AddressRange } from './ranges.js';
