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
  NI4012: { severity: 'warning', text: '{0} type {1} never opens a connection: replies and errors of allowed connections pass as related, any other is dropped as invalid, so this never matches.', help: 'Match the request instead (icmp type 8, icmpv6 type 128 for ping), or leave the type out.' },

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

  // NI7xxx: admission (webhook and `netintent admit`); {0} is the object, {1} the field path
  NI7001: { severity: 'error', text: 'Pod {0}: {1} asks for host access, but tenant "{2}" (isolation {3}, {4}) does not allow it.', help: 'Remove {1}, or add `allow host-access` to tenant "{2}" in {4}.' },
  NI7002: { severity: 'error', text: 'Pod {0}: {1} asks for {2}, outside the pools of tenant "{3}" ({4}).', help: 'Use an address from {5}, or drop the annotation and let the IPAM choose.' },
  NI7003: { severity: 'error', text: 'Pod {0}: {1} names pool "{2}", which is not a pool of tenant "{3}" ({4}).', help: 'Use one of the tenant pools: {5}.' },
  NI7004: { severity: 'error', text: 'Pod {0}: {1} names pool "{2}", which no intent declares.', help: 'Declared pools: {3}.' },
  NI7005: { severity: 'error', text: 'Pod {0}: {1} asks for {2}, which the intents give to {3} ({4}).', help: 'Pick an address no intent gives to another workload, or drop the annotation.' },
  NI7006: { severity: 'error', text: 'Pod {0}: {1} names pool "{2}", which the intents reserve for {3} ({4}).', help: 'Only pods of {3} draw from this pool; drop the annotation.' },
  NI7007: { severity: 'error', text: 'Pod {0}: {1} asks for {2}, but the intents give this pod {3} ({4}).', help: 'Drop the annotation: the mutating webhook sets the address from the intents.' },
  NI7008: { severity: 'error', text: 'Pod {0}: {1} is not a valid address request: {2}.', help: 'Write the addresses as the annotation expects (comma list, or a JSON list for Calico).' },
  NI7009: { severity: 'error', text: 'Pod {0}: {1} is "{2}": {3}.', help: 'Write a bit rate as a Kubernetes quantity between 1k and 1P, e.g. 500k, 10M, 1G.' },
  NI7010: { severity: 'error', text: 'Pod {0}: {1} is {2}, above the {3} cap {4} of tenant "{5}" ({6}).', help: 'Lower it to {4} or less, or raise the cap in {6}.' },
  NI7011: { severity: 'error', text: 'Pod {0}: {1} attaches network "{2}", which belongs to tenant "{3}" ({4}).', help: 'Attach only networks of the pod\'s own tenant ({5}).' },
  NI7012: { severity: 'error', text: 'Pod {0}: {1} is not a valid network selection: {2}.', help: 'Write a comma list of [NAMESPACE/]NAME[@INTERFACE] or a JSON list of {"name": ...} objects.' },
  NI7013: { severity: 'error', text: 'NetworkPolicy {0}: {1} selects namespaces outside strict tenant "{2}" ({3}): {4}.', help: 'Strict isolation cannot be reopened by a NetworkPolicy: select only namespaces of tenant "{2}", or change its isolation in {3}.' },
  NI7014: { severity: 'error', text: 'IntentSet {0} does not compile: {1}.', help: 'Run `netintent check` on the IntentSet and fix the errors it lists.' },
  NI7015: { severity: 'warning', text: 'netintent does not review {0} objects; allowed unchanged.', help: 'Remove {0} from the webhook rules.' },
  NI7016: { severity: 'warning', text: 'IntentSet {0} was not checked: this webhook runs without the intent compiler.', help: 'Run `netintent check` on it before applying.' },
  NI7017: { severity: 'error', text: 'Pod {0}: {1} asks for {2}, which pool "{3}" reserves ({4}).', help: 'Reserved addresses are never handed out; pick another address of the pool.' },
  NI7018: { severity: 'error', text: 'Pod {0}: {1} asks for {2}, in pool "{3}" of tenant "{4}" ({5}), but the pod is in no tenant.', help: 'Only pods in the namespaces of tenant "{4}" may use its pools; pick a shared address or move the pod.' },
  NI7019: { severity: 'error', text: 'NetworkPolicy {0}: {1} ({2}) reaches pool addresses of other tenants than strict tenant "{3}" ({4}): {5}.', help: 'Strict isolation cannot be reopened by a NetworkPolicy: narrow the ipBlock or add `except` blocks that leave those pools out, or change the isolation of tenant "{3}" in {4}.' },

  // NI8xxx: node agent and IPAM runtime
  // NI81xx: IPAM runtime (CNI plugin `netintent-ipam`, `netintent ipam`)
  NI8101: { severity: 'error', text: 'Pool "{0}" exhausted: {1} of {2} addresses leased by {3}.', help: 'Grow the pool, lower the replica count, or run `netintent ipam gc` to release leaks.' },
  NI8102: { severity: 'error', text: 'No address pool for pod {0}: {1}.', help: 'Give the pod a fixed IP, a workload pool, or put its namespace in a tenant with pools.' },
  NI8103: { severity: 'error', text: 'Requested IP {0} for pod {1} (from {2}) is not allowed: {3}.', help: 'Request an address from a pool the pod may use, or change the plan.' },
  NI8104: { severity: 'error', text: 'IP {0} is leased by {1}; pod {2} cannot have it.', help: 'Release the other lease (delete that pod, or `netintent ipam gc`) first.' },
  NI8105: { severity: 'error', text: 'Lease store unreachable: {0}.', help: 'The runtime retries; check that the store (directory or etcd endpoints) is available.' },
  NI8106: { severity: 'error', text: 'Invalid IPAM network configuration: {0}.', help: 'See the `ipam` section format in docs/ipam.md.' },
  NI8107: { severity: 'error', text: 'Invalid IPAM plan {0}: {1}.', help: 'Regenerate it with `netintent compile --target ipam`.' },
  NI8108: { severity: 'warning', text: 'Leak: {0} is leased by {1}, {2}.', help: '`netintent ipam gc` releases it.' },
  NI8109: { severity: 'warning', text: 'Conflict: {0}.', help: 'Fix it by hand after checking which pod really uses the address; netintent never picks a winner.' },
  NI8110: { severity: 'warning', text: 'Torn lease claim for {0} (an ADD was interrupted {1} ago).', help: 'GC removes torn claims older than the grace period.' },
  NI8111: { severity: 'warning', text: 'The inventory lists no StatefulSets; released sticky leases of {0} are kept.', help: 'Add `kubectl get statefulsets -A -o yaml` to the inventory so GC can tell scaled-down StatefulSets.' },
  NI8112: { severity: 'error', text: 'Lease check failed for {0}: {1}.', help: 'The lease store no longer holds what ADD returned; delete and re-add the pod.' },
  NI8113: { severity: 'error', text: 'Unsupported CNI version {0}; netintent-ipam supports {1}.', help: 'Set cniVersion in the network configuration to a supported version.' },
  NI8114: { severity: 'error', text: 'Invalid CNI environment: {0}.', help: 'The runtime must set CNI_COMMAND, CNI_CONTAINERID and CNI_IFNAME.' },
  NI8115: { severity: 'error', text: 'Lease store I/O failure: {0}.', help: 'Check the store directory (permissions, free space).' },
  NI8116: { severity: 'info', text: 'Released {0} ({1}): {2}.' },
  // NI82xx: node agent (rate limits, egress gateways, anti-spoofing)
  NI8201: { severity: 'warning', text: 'Pod {0}: invalid bandwidth annotation {1}="{2}"; it is ignored.', help: 'Use a Kubernetes quantity in bits per second, e.g. 10M or 1G.' },
  NI8202: { severity: 'warning', text: 'Pod {0}: no host-side interface found for {1}; its shaping and anti-spoofing are skipped until it appears.', help: 'The route to the pod IP in the node namespace must point at its veth (ptp) or at a bridge whose FDB knows the pod MAC.' },
  NI8203: { severity: 'error', text: 'Node {0}: {1} failed: {2}.', help: 'The last good state is kept; the agent retries on the next reconcile.' },
  NI8204: { severity: 'warning', text: 'Node {0}: kernel lacks the {1} qdisc; {2}.', help: 'Load the sch_{1} kernel module to get the intended behaviour.' },
  NI8205: { severity: 'warning', text: 'Egress gateway "{0}" has no candidate node with an address.', help: 'List gateway nodes with `nodes` or a node selector, and make sure they are in the inventory.' },
  // NI83xx: L7 enforcement on the node (HAProxy for HTTP, dnsmasq for DNS/FQDN)
  NI8301: { severity: 'error', text: 'Target "{0}" cannot enforce the Kafka clause of rule "{1}": the node has no Kafka-aware proxy, so it would only check the port.', help: 'Either drop the Kafka clause, or accept port-level enforcement explicitly with `l4-only` on the rule (check then reports NI4010).' },
  NI8302: { severity: 'error', text: 'HTTP path regex {0} of rule "{1}" would be read differently by HAProxy (PCRE2): {2}.', help: 'Write the construct portably: escape only punctuation, use [\\s\\S] for "any character", and avoid JavaScript-only escapes.' },
  NI8303: { severity: 'error', text: 'Invalid HTTP {0} {1} in rule "{2}": {3}.', help: 'Header names are RFC 9110 tokens; values and hosts cannot hold control characters.' },
  NI8304: { severity: 'error', text: 'DNS pattern "{0}" of rule "{1}" cannot be enforced by dnsmasq: {2}.', help: 'Use an exact name, "*.domain", "*domain" (any prefix, Antrea) or "*" (everything).' },
  NI8305: { severity: 'warning', text: 'DNS pattern "{0}" of rule "{1}" is enforced as every subdomain of {2} at any depth (Cilium allows one label).', help: 'dnsmasq matches whole suffixes; list the names explicitly for one-label precision.' },
  NI8306: { severity: 'error', text: 'Rule "{0}" needs the L7 proxy for traffic from CIDR sources, but earlier rule "{1}" also decides traffic to {2}; the proxy path would bypass it.', help: 'Use pod selectors as sources of L7 rules, or make the earlier rule not overlap the L7 destination.' },
  NI8307: { severity: 'error', text: 'L7 proxy {0} on node "{1}" is down: {2}.', help: 'Install the Debian package {3}; while the proxy is down, the L7-guarded ports stay closed.' },
  NI8308: { severity: 'warning', text: 'FQDN peer "{0}" of rule "{1}" learns addresses only for {2} and its subdomains; other names ending in {2} stay blocked.', help: 'dnsmasq feeds nft sets by whole DNS labels; list such names as their own FQDN peers.' },
  NI8309: { severity: 'warning', text: 'HAProxy on node "{0}": the source ACLs could not be updated at run time ({1}); it was reloaded instead.', help: 'A reload can reset an idle keep-alive connection (HAProxy 2.6); the next client churn tries the runtime update again.' },

  // NI9xxx: usage, I/O, internal
  NI9001: { severity: 'error', text: 'Cannot read {0}: {1}.', help: 'Check that the path exists and is readable.' },
  NI9002: { severity: 'error', text: 'No intent files found in {0}.', help: 'Pass .intent files, IntentSet/NetworkPolicy .yaml files or directories holding them.' },
  NI9003: { severity: 'error', text: 'Usage: {0}.', help: 'Run with --help for the options.' },
  NI9004: { severity: 'error', text: 'Internal error: {0}.', help: 'This is a netintent bug; please report it with the input files.' },
  NI9005: { severity: 'error', text: 'File is not formatted canonically.', help: 'Run `netintent fmt --write` on it.' },
} as const satisfies Record<string, MessageDef>;

export type Code = keyof typeof messages;
