/**
 * The one message catalogue. Codes are stable: never renumber or reuse one.
 * Ranges: NI1xxx syntax (10xx DSL, 11xx YAML IntentSet, 12xx NetworkPolicy),
 * NI2xxx names and references, NI3xxx addresses and IPAM, NI4xxx rules, ports and L7,
 * NI5xxx backend enforceability, NI6xxx inventory, NI7xxx admission, NI8xxx node/IPAM runtime,
 * NI9xxx usage, I/O and internal errors.
 * `{0}`, `{1}`… are replaced by the arguments of `diag()`.
 */
export type Severity = 'error' | 'warning' | 'info';

export interface MessageDef {
  severity: Severity;
  text: string;
  help?: string;
}

export const messages = {
  // NI10xx: DSL syntax
  NI1001: { severity: 'error', text: 'Unexpected {0}; expected {1}.', help: 'Check the statement near this point against the DSL tour in README.md.' },
  NI1002: { severity: 'error', text: 'Unexpected end of input; expected {0}.', help: 'The file ends in the middle of a statement: close the open block or finish the statement.' },
  NI1003: { severity: 'error', text: 'Invalid character {0}.', help: 'Identifiers use letters, digits, "-", "_" and "."; strings go in double quotes.' },
  NI1004: { severity: 'error', text: 'Unterminated string.', help: 'Close the string with a double quote on the same line.' },
  NI1005: { severity: 'error', text: 'Ambiguous syntax: {0} parses.', help: 'This is a netintent bug; please report it with the file.' },
  NI1006: { severity: 'error', text: 'Unknown named value "{0}".', help: 'Define it first with `let {0} = ...`.' },
  NI1007: { severity: 'error', text: 'Named value "{0}" is defined twice.', help: 'Rename one of the `let` definitions.' },
  NI1008: { severity: 'error', text: 'Cannot include "{0}": {1}.', help: 'Include paths are relative to the including file.' },
  NI1009: { severity: 'error', text: 'Include cycle: {0}.', help: 'Remove one of the includes that form the cycle.' },
  NI1010: { severity: 'error', text: 'Named value "{0}" is a {1}, but a {2} is expected here.', help: 'Use a named value of the right kind.' },

  // NI11xx: YAML IntentSet
  NI1101: { severity: 'error', text: 'YAML syntax error: {0}.', help: 'Fix the YAML structure (indentation, quoting) at this point.' },
  NI1102: { severity: 'error', text: 'Invalid IntentSet: {0}.', help: 'See schemas/intent.schema.json for the allowed fields.' },
  NI1103: { severity: 'error', text: 'Unknown document kind "{0}" (apiVersion "{1}").', help: 'netintent reads IntentSet (netintent.dev/v1alpha1) and NetworkPolicy (networking.k8s.io/v1) documents.' },
  NI1104: { severity: 'warning', text: 'No IntentSet or NetworkPolicy document in this file.', help: 'Documents of other kinds (Namespaces, Deployments…) are ignored; add an IntentSet (netintent.dev/v1alpha1) or a NetworkPolicy (networking.k8s.io/v1).' },

  // NI12xx: NetworkPolicy
  NI1201: { severity: 'error', text: 'Invalid NetworkPolicy {0}: {1}.', help: 'The object must be a valid networking.k8s.io/v1 NetworkPolicy.' },
  NI1202: { severity: 'error', text: 'Invalid label selector: {0}.', help: 'matchExpressions operators are In, NotIn (with values) and Exists, DoesNotExist (without values).' },

  // NI2xxx: names and references
  NI2001: { severity: 'error', text: 'Unknown {0} "{1}".', help: 'Declare the {0} or fix the spelling.' },
  NI2002: { severity: 'error', text: 'Duplicate {0} "{1}".', help: 'Names must be unique across all files; rename one of them.' },
  NI2003: { severity: 'error', text: 'Group "{0}" includes itself through {1}.', help: 'Remove one of the nested group references.' },
  NI2004: { severity: 'error', text: 'Namespace "{0}" is claimed by tenant "{1}" and tenant "{2}".', help: 'A namespace belongs to at most one tenant.' },
  NI2005: { severity: 'error', text: '{0} expects a group of pods, but group "{1}" contains {2}.', help: 'Use a group whose members are all `pods` selectors.' },

  // NI3xxx: addresses and IPAM
  NI3001: { severity: 'error', text: 'Invalid CIDR "{0}": {1}.', help: 'Write an address and prefix length, e.g. 10.0.0.0/24 or fd00::/64.' },
  NI3002: { severity: 'error', text: 'Invalid IP address "{0}".', help: 'Write a dotted IPv4 or an IPv6 address.' },
  NI3003: { severity: 'error', text: 'Except block {0} is not inside {1}.', help: 'Each `except` CIDR must lie within the CIDR it subtracts from.' },
  NI3004: { severity: 'error', text: 'IP {0} is outside the pools of tenant "{1}".', help: 'Use an address from one of the tenant pools: {2}.' },
  NI3005: { severity: 'error', text: 'IP {0} is claimed twice: by {1} and by {2}.', help: 'Each fixed IP belongs to exactly one workload.' },
  NI3006: { severity: 'error', text: 'Pool "{0}" overlaps pool "{1}" ({2}).', help: 'Pools must not share addresses; shrink or move one of them.' },
  NI3007: { severity: 'error', text: 'Invalid address range {0}-{1}: {2}.', help: 'A range is FIRST-LAST with FIRST <= LAST and both of one IP family.' },
  NI3008: { severity: 'error', text: 'Pool "{0}" has {1} addresses but {2} needs {3}.', help: 'Grow the pool or lower the replica count.' },
  NI3009: { severity: 'warning', text: 'CIDR {0} has host bits set; it means {1}.', help: 'Write the network address to say what you mean.' },

  // NI4xxx: rules, ports, rates, L7
  NI4001: { severity: 'error', text: 'Invalid port {0}: {1}.', help: 'Ports are 1-65535; a range is FIRST-LAST with FIRST <= LAST.' },
  NI4002: { severity: 'error', text: 'L7 {0} rules need TCP, but this rule allows {1}.', help: 'Restrict the rule to TCP ports.' },
  NI4003: { severity: 'warning', text: 'Rule is shadowed by {0}: it can never match.', help: 'Remove the rule or move it before the rule that shadows it.' },
  NI4004: { severity: 'error', text: 'Invalid rate "{0}": {1}.', help: 'Write a number with a unit: 500k, 10M, 1G (bits per second).' },
  NI4005: { severity: 'error', text: 'Invalid {0} "{1}": {2}.', help: 'Latency and jitter take ms/s/us units; loss is a percentage 0-100%.' },
  NI4006: { severity: 'error', text: 'ICMP type/code {0} is out of range.', help: 'ICMP type and code are 0-255.' },
  NI4007: { severity: 'error', text: 'Invalid regular expression {0}: {1}.', help: 'HTTP paths are anchored regular expressions in RE2/PCRE syntax.' },
  NI4008: { severity: 'error', text: 'Invalid priority {0}.', help: 'Priorities are integers 0-65535; lower runs first.' },
  NI4009: { severity: 'error', text: 'Invalid {0} "{1}".', help: '{2}' },
  NI4010: { severity: 'warning', text: 'Rule "{0}" is enforced at L4 only: its Kafka clause is not checked by the node backend.', help: 'Remove `l4-only` once a Kafka-aware backend is used, or drop the clause.' },
  NI4011: { severity: 'error', text: 'Rate {0} exceeds the cap {1} of tenant "{2}".', help: 'Lower the rate or raise the tenant cap.' },

  // NI5xxx: backend enforceability
  NI5001: { severity: 'error', text: 'Target "{0}" cannot enforce {1} of rule "{2}".', help: '{3}' },
  NI5002: { severity: 'error', text: 'Unknown target "{0}".', help: 'Targets: {1}.' },
  NI5010: { severity: 'error', text: 'FQDN peer "{0}" is used as a source; no backend can enforce that.', help: 'DNS names are learnt from the answers a pod receives, so they can only be destinations (`to`). Use a CIDR for sources.' },
  NI5011: { severity: 'error', text: 'L7 clause on a {0} rule; no backend can enforce that.', help: 'L7 clauses narrow what an allow rule admits: put them on an `allow` rule and let a later `deny` catch the rest.' },
  NI5020: { severity: 'warning', text: 'Target "{0}" cannot resolve {1} of rule "{2}" statically; it matches no address there.', help: '{3}' },

  // NI6xxx: inventory
  NI6001: { severity: 'error', text: 'Invalid inventory object {0}: {1}.', help: 'The inventory is what `kubectl get namespaces,pods,nodes,services -A -o yaml` prints.' },
  NI6002: { severity: 'warning', text: 'Pod {0} has no IP yet; it is left out.', help: 'It will be included once the runtime reports status.podIPs.' },
  NI6003: { severity: 'error', text: 'Unknown node "{0}".', help: 'Nodes in the inventory: {1}.' },
  NI6004: { severity: 'warning', text: 'Pod {0}: unreadable network-status annotation: {1}.', help: 'The annotation k8s.v1.cni.cncf.io/network-status must be a JSON list.' },

  // NI8xxx: node agent and IPAM runtime
  // NI82xx: node agent (rate limits, egress gateways, anti-spoofing)
  NI8201: { severity: 'warning', text: 'Pod {0}: invalid bandwidth annotation {1}="{2}"; it is ignored.', help: 'Use a Kubernetes quantity in bits per second, e.g. 10M or 1G.' },
  NI8202: { severity: 'warning', text: 'Pod {0}: no host-side interface found for {1}; its shaping and anti-spoofing are skipped until it appears.', help: 'The route to the pod IP in the node namespace must point at its veth (ptp) or at a bridge whose FDB knows the pod MAC.' },
  NI8203: { severity: 'error', text: 'Node {0}: {1} failed: {2}.', help: 'The last good state is kept; the agent retries on the next reconcile.' },
  NI8204: { severity: 'warning', text: 'Node {0}: kernel lacks the {1} qdisc; {2}.', help: 'Load the sch_{1} kernel module to get the intended behaviour.' },
  NI8205: { severity: 'warning', text: 'Egress gateway "{0}" has no candidate node with an address.', help: 'List gateway nodes with `nodes` or a node selector, and make sure they are in the inventory.' },

  // NI9xxx: usage, I/O, internal
  NI9001: { severity: 'error', text: 'Cannot read {0}: {1}.', help: 'Check that the path exists and is readable.' },
  NI9002: { severity: 'error', text: 'No intent files found in {0}.', help: 'Pass .intent files, IntentSet/NetworkPolicy .yaml files or directories holding them.' },
  NI9003: { severity: 'error', text: 'Usage: {0}.', help: 'Run with --help for the options.' },
  NI9004: { severity: 'error', text: 'Internal error: {0}.', help: 'This is a netintent bug; please report it with the input files.' },
  NI9005: { severity: 'error', text: 'File is not formatted canonically.', help: 'Run `netintent fmt --write` on it.' },
} as const satisfies Record<string, MessageDef>;

export type Code = keyof typeof messages;
