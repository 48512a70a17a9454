/**
 * Native `networking.k8s.io/v1` NetworkPolicy objects → NetworkPolicyDecl, with upstream
 * defaulting (k8s.io/kubernetes pkg/apis/networking/v1/defaults.go) and validation
 * (pkg/apis/networking/validation). The caller hands over one object node of a parsed
 * YAML document; dispatch by apiVersion/kind lives in the YAML front end.
 */
import { isMap, isScalar, isSeq, type Node as YamlNode, type YAMLMap } from 'yaml';
import type { Name, NetpolPeer, NetpolRule, NetworkPolicyDecl, NumberLit, PortSpec, Selector, Text } from '../../ast/index.js';
import { diag, type Diagnostic } from '../../diagnostics/diagnostic.js';
import type { Span } from '../../diagnostics/span.js';
import { describeNode, labelSelector, type YamlDoc } from '../yaml/nodes.js';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** IANA service name, as upstream IsValidPortName checks it. */
const PORT_NAME = /^(?=.*[a-z])(?!.*--)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const FIELDS = {
  object: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  spec: ['podSelector', 'policyTypes', 'ingress', 'egress'],
  ingress: ['from', 'ports'],
  egress: ['to', 'ports'],
  peer: ['podSelector', 'namespaceSelector', 'ipBlock'],
  ipBlock: ['cidr', 'except'],
  port: ['protocol', 'port', 'endPort'],
} as const;

/** Reads one NetworkPolicy; every problem is reported and the object is then dropped. */
class NetpolReader {
  /** NI1201 findings wait for the policy's namespace/name, which the message carries. */
  private readonly findings: { span: Span; message: string }[] = [];
  private readonly selectorProblems: Diagnostic[] = [];

  constructor(
    private readonly y: YamlDoc,
    private readonly report: (d: Diagnostic) => void,
  ) {}

  read(object: YAMLMap): NetworkPolicyDecl | undefined {
    const span = this.y.span(object);
    this.checkFields(object, FIELDS.object, '');
    const metadata = this.map(this.y.field(object, 'metadata'), 'metadata');
    const name = this.nameField(metadata, 'name', 'metadata.name', span);
    const namespace = this.nameField(metadata, 'namespace', 'metadata.namespace', span) ?? { value: 'default', span: name?.span ?? span };

    const specNode = this.y.field(object, 'spec');
    const spec = this.map(specNode, 'spec');
    if (spec) this.checkFields(spec, FIELDS.spec, 'spec');
    const podSelector = this.selector(spec && this.y.field(spec, 'podSelector'), specNode ?? object);
    const ingressNode = spec && this.y.field(spec, 'ingress');
    const egressNode = spec && this.y.field(spec, 'egress');
    const ingress = this.rules(ingressNode, 'ingress');
    const egress = this.rules(egressNode, 'egress');
    const policyTypes = this.policyTypes(spec && this.y.field(spec, 'policyTypes'), egress.length > 0);

    const label = `${namespace.value}/${name?.value ?? '?'}`;
    const problems = [...this.findings.map((f) => diag('NI1201', f.span, [label, f.message])), ...this.selectorProblems];
    problems.sort((a, b) => a.span!.start.offset - b.span!.start.offset);
    for (const problem of problems) this.report(problem);
    if (problems.length > 0 || !name) return undefined;
    return { kind: 'networkpolicy', namespace, name, podSelector, policyTypes, ingress, egress, span };
  }

  private problem(span: Span, message: string): void {
    this.findings.push({ span, message });
  }

  private checkFields(map: YAMLMap, allowed: readonly string[], path: string): void {
    for (const entry of this.y.entries(map)) {
      if (!allowed.includes(entry.key)) {
        const where = path ? `${path}.${entry.key}` : entry.key;
        this.problem(this.y.span(entry.keyNode), `unknown field "${where}" (expected ${allowed.join(', ')})`);
      }
    }
  }

  /** A map-valued field; absent is fine (undefined), any other shape is a problem. */
  private map(node: YamlNode | undefined, path: string): YAMLMap | undefined {
    if (node === undefined || isMap(node)) return node;
    this.problem(this.y.span(node), `${path} must be a map, not ${describeNode(node)}`);
    return undefined;
  }

  private list(node: YamlNode | undefined, path: string): YamlNode[] {
    if (node === undefined) return [];
    if (!isSeq(node)) {
      this.problem(this.y.span(node), `${path} must be a list, not ${describeNode(node)}`);
      return [];
    }
    return this.y.items(node);
  }

  private string(node: YamlNode | undefined, path: string): Text | undefined {
    if (node === undefined) return undefined;
    if (!isScalar(node) || typeof node.value !== 'string') {
      this.problem(this.y.span(node), `${path} must be a string, not ${describeNode(node)}`);
      return undefined;
    }
    return this.y.text(node);
  }

  private nameField(metadata: YAMLMap | undefined, key: string, path: string, whole: Span): Name | undefined {
    const node = metadata && this.y.field(metadata, key);
    if (node === undefined) {
      if (key === 'name') this.problem(metadata ? this.y.span(metadata) : whole, `${path} is required`);
      return undefined;
    }
    const text = this.string(node, path);
    if (text && (text.value.length > 253 || !DNS_SUBDOMAIN.test(text.value))) {
      this.problem(text.span, `${path} "${text.value}" must be a lowercase DNS subdomain (letters, digits, "-", ".")`);
    }
    return text;
  }

  private selector(node: YamlNode | undefined, owner: YamlNode): Selector {
    // A missing podSelector is the empty selector: it selects every pod of the namespace.
    return labelSelector(this.y, node, true, (d) => this.selectorProblems.push(d), this.y.span(owner));
  }

  private policyTypes(node: YamlNode | undefined, hasEgressRules: boolean): ('Ingress' | 'Egress')[] {
    const items = this.list(node, 'spec.policyTypes');
    // Upstream defaulting: an absent or empty list means Ingress, plus Egress when there is at least one egress rule.
    if (items.length === 0) return hasEgressRules ? ['Ingress', 'Egress'] : ['Ingress'];
    if (items.length > 2) this.problem(this.y.span(node!), 'spec.policyTypes may not specify more than two policyTypes');
    const types = new Set<'Ingress' | 'Egress'>();
    items.forEach((item, i) => {
      const text = this.string(item, `spec.policyTypes[${i}]`);
      if (!text) return;
      if (text.value === 'Ingress' || text.value === 'Egress') types.add(text.value);
      else this.problem(text.span, `spec.policyTypes[${i}]: unsupported value "${text.value}" (expected Ingress or Egress)`);
    });
    return (['Ingress', 'Egress'] as const).filter((t) => types.has(t));
  }

  private rules(node: YamlNode | undefined, direction: 'ingress' | 'egress'): NetpolRule[] {
    const peersKey = direction === 'ingress' ? 'from' : 'to';
    return this.list(node, `spec.${direction}`).flatMap((rule, i) => {
      const path = `spec.${direction}[${i}]`;
      if (!isMap(rule)) {
        this.problem(this.y.span(rule), `${path} must be a map, not ${describeNode(rule)}`);
        return [];
      }
      this.checkFields(rule, FIELDS[direction], path);
      const peers = this.list(this.y.field(rule, peersKey), `${path}.${peersKey}`).flatMap((peer, j) => this.peer(peer, `${path}.${peersKey}[${j}]`) ?? []);
      const ports = this.list(this.y.field(rule, 'ports'), `${path}.ports`).flatMap((port, j) => this.port(port, `${path}.ports[${j}]`) ?? []);
      return [{ peers, ports, span: this.y.span(rule) }];
    });
  }

  private peer(node: YamlNode, path: string): NetpolPeer | undefined {
    const span = this.y.span(node);
    if (!isMap(node)) {
      this.problem(span, `${path} must be a map, not ${describeNode(node)}`);
      return undefined;
    }
    this.checkFields(node, FIELDS.peer, path);
    const podNode = this.y.field(node, 'podSelector');
    const nsNode = this.y.field(node, 'namespaceSelector');
    const ipBlockNode = this.y.field(node, 'ipBlock');
    const present = [podNode, nsNode, ipBlockNode].filter((n) => n !== undefined).length;
    if (present === 0) {
      this.problem(span, `${path} must specify a peer (podSelector, namespaceSelector or ipBlock)`);
      return undefined;
    }
    if (ipBlockNode !== undefined && present > 1) {
      this.problem(span, `${path} may not specify both ipBlock and another peer`);
      return undefined;
    }
    if (ipBlockNode !== undefined) return this.ipBlock(ipBlockNode, `${path}.ipBlock`, span);
    return {
      kind: 'pods',
      ...(podNode !== undefined ? { podSelector: this.selector(podNode, node) } : {}),
      ...(nsNode !== undefined ? { namespaceSelector: this.selector(nsNode, node) } : {}),
      span,
    };
  }

  private ipBlock(node: YamlNode, path: string, span: Span): NetpolPeer | undefined {
    const block = this.map(node, path);
    if (!block) return undefined;
    this.checkFields(block, FIELDS.ipBlock, path);
    const cidr = this.string(this.y.field(block, 'cidr'), `${path}.cidr`);
    if (!cidr) {
      if (this.y.field(block, 'cidr') === undefined) this.problem(this.y.span(block), `${path}.cidr is required`);
      return undefined;
    }
    const except = this.list(this.y.field(block, 'except'), `${path}.except`).flatMap((e, i) => this.string(e, `${path}.except[${i}]`) ?? []);
    return { kind: 'ipBlock', cidr, except, span };
  }

  private port(node: YamlNode, path: string): PortSpec | undefined {
    const span = this.y.span(node);
    if (!isMap(node)) {
      this.problem(span, `${path} must be a map, not ${describeNode(node)}`);
      return undefined;
    }
    this.checkFields(node, FIELDS.port, path);
    const protocolText = this.string(this.y.field(node, 'protocol'), `${path}.protocol`);
    // Upstream defaults an absent protocol to TCP.
    const protocolName = protocolText?.value ?? 'TCP';
    if (!['TCP', 'UDP', 'SCTP'].includes(protocolName)) {
      this.problem(protocolText?.span ?? span, `${path}.protocol: unsupported value "${protocolName}" (expected TCP, UDP or SCTP)`);
      return undefined;
    }
    const protocol = protocolName.toLowerCase() as 'tcp' | 'udp' | 'sctp';
    const portNode = this.y.field(node, 'port');
    const endPortNode = this.y.field(node, 'endPort');
    const endPort = endPortNode !== undefined ? this.portNumber(endPortNode, `${path}.endPort`) : undefined;
    if (portNode === undefined) {
      if (endPortNode !== undefined) this.problem(this.y.span(endPortNode), `${path}.endPort may not be specified when port is not specified`);
      return { protocol, span };
    }
    if (isScalar(portNode) && typeof portNode.value === 'string') {
      const name = this.y.text(portNode);
      if (name.value.length > 15 || !PORT_NAME.test(name.value)) {
        this.problem(name.span, `${path}.port "${name.value}" is neither a port number nor a valid port name (at most 15 lowercase letters, digits and "-", with a letter)`);
      }
      if (endPortNode !== undefined) this.problem(this.y.span(endPortNode), `${path}.endPort may not be specified when port is non-numeric`);
      return { protocol, name, span };
    }
    const port = this.portNumber(portNode, `${path}.port`);
    if (!port) return undefined;
    if (endPort && endPort.value < port.value) this.problem(endPort.span, `${path}.endPort must be greater than or equal to port`);
    return { protocol, port, ...(endPort ? { endPort } : {}), span };
  }

  private portNumber(node: YamlNode, path: string): NumberLit | undefined {
    const span = this.y.span(node);
    if (!isScalar(node) || typeof node.value !== 'number' || !Number.isInteger(node.value)) {
      this.problem(span, `${path} must be an integer or a port name, not ${describeNode(node)}`);
      return undefined;
    }
    if (node.value < 1 || node.value > 65535) {
      this.problem(span, `${path} ${node.value} must be between 1 and 65535`);
      return undefined;
    }
    return { value: node.value, span };
  }
}

/** Converts one NetworkPolicy object node; undefined when it is invalid (problems are reported). */
export function networkPolicyDecl(y: YamlDoc, object: YAMLMap, report: (d: Diagnostic) => void): NetworkPolicyDecl | undefined {
  return new NetpolReader(y, report).read(object);
}
