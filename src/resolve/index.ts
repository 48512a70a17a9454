/** Selector resolution: groups, tenants and NetworkPolicy peers → shared, memoized address sets; the same membership per pod for incremental updates. */
export { SelectorResolver, setContains, EVERYTHING, everyPodAddress, netpolPeerMember, type AddressSet } from './resolver.js';
export { PodMembership } from './membership.js';
export { cidrToRange, rangeToCidrs, type AddressRange } from './ranges.js';
