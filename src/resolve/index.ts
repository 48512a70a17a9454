/** Selector resolution: groups, tenants and NetworkPolicy peers → shared, memoized address sets. */
export { SelectorResolver, setContains, canonicalJson, EVERYTHING, type AddressSet } from './resolver.js';
export { bigintToIp, cidrToRange, familyOf, rangeToCidrs, type AddressRange, type Family } from './ranges.js';
