/** Pull-request review: what changed between two versions of the intents, for humans and CI. */
export { diffIntents, hasChanges, portLabel, ruleView, sourceOf } from './diff.js';
export { MARKDOWN_LIMIT, renderDiffJson, renderDiffMarkdown, type MarkdownOptions } from './render.js';
export { readRevisionInputs, parseRevisionSpec, type RevisionSpec } from './git.js';
export { decide, portIntervalLabel, probeIntervals, portsOf, VersionModel, type Outcome, type PortInterval } from './connectivity.js';
export { groupLabel, podClasses, type Endpoint, type EndpointSet } from './endpoints.js';
export * from './types.js';
