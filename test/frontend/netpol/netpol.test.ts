import { describe, expect, test } from 'vitest';
import type { NetworkPolicyDecl } from '../../../src/ast/index.js';
import { parse, where, withoutSpans } from '../yaml/helpers.js';

/** The canonical example of the Kubernetes documentation ("Network Policies"). */
const canonical = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: test-network-policy
  namespace: default
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
    - Ingress
    - Egress
  ingress:
    - from:
        - ipBlock:
            cidr: 172.17.0.0/16
            except:
              - 172.17.1.0/24
        - namespaceSelector:
            matchLabels:
              project: myproject
        - podSelector:
            matchLabels:
              role: frontend
      ports:
        - protocol: TCP
          port: 6379
  egress:
    - to:
        - ipBlock:
            cidr: 10.0.0.0/24
      ports:
        - protocol: TCP
          port: 5978
`;

const label = (key: string, value: string) => ({ terms: [{ key: { value: key }, op: 'eq', values: [{ value }] }] });

function policy(spec: string, metadata = '  name: p\n  namespace: ns\n'): { decl: NetworkPolicyDecl | undefined; codes: string[]; messages: string[] } {
  const { decls, diagnostics } = parse(`apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n${metadata}spec:\n${spec}`);
  return { decl: decls[0] as NetworkPolicyDecl | undefined, codes: where(diagnostics), messages: diagnostics.map((d) => d.message) };
}

describe('upstream examples', () => {
  test('test-network-policy parses to the expected AST', () => {
    const { decls, diagnostics, formats } = parse(canonical, 'np.yaml');
    expect(diagnostics).toEqual([]);
    expect(formats).toEqual(['netpol']);
    expect(withoutSpans(decls)).toEqual([
      {
        kind: 'networkpolicy',
        namespace: { value: 'default' },
        name: { value: 'test-network-policy' },
        podSelector: label('role', 'db'),
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          {
            peers: [
              { kind: 'ipBlock', cidr: { value: '172.17.0.0/16' }, except: [{ value: '172.17.1.0/24' }] },
              { kind: 'pods', namespaceSelector: label('project', 'myproject') },
              { kind: 'pods', podSelector: label('role', 'frontend') },
            ],
            ports: [{ protocol: 'tcp', port: { value: 6379 } }],
          },
        ],
        egress: [{ peers: [{ kind: 'ipBlock', cidr: { value: '10.0.0.0/24' }, except: [] }], ports: [{ protocol: 'tcp', port: { value: 5978 } }] }],
      },
    ]);
    const decl = decls[0] as NetworkPolicyDecl;
    expect(decl.span.start).toMatchObject({ line: 1, col: 1 });
    expect(decl.name.span.start).toMatchObject({ line: 4, col: 9 });
    expect(decl.ingress[0]!.peers[0]!.span.start).toMatchObject({ line: 15, col: 11 });
    expect(decl.ingress[0]!.ports[0]!.port!.span.start).toMatchObject({ line: 27, col: 17 });
  });

  test('default-deny-all and allow-all', () => {
    expect(withoutSpans(policy('  podSelector: {}\n  policyTypes: [Ingress, Egress]\n').decl)).toMatchObject({
      podSelector: { terms: [] }, policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [],
    });
    expect(withoutSpans(policy('  podSelector: {}\n  ingress:\n  - {}\n').decl)).toMatchObject({
      policyTypes: ['Ingress'], ingress: [{ peers: [], ports: [] }], egress: [],
    });
  });
});

describe('policyTypes defaulting (Ingress always; Egress iff at least one egress rule)', () => {
  test.each([
    ['no egress field', '  podSelector: {}\n', ['Ingress']],
    ['egress: [] is no rule', '  podSelector: {}\n  egress: []\n', ['Ingress']],
    ['egress with one empty rule', '  podSelector: {}\n  egress: [{}]\n', ['Ingress', 'Egress']],
    ['policyTypes: [] is defaulted', '  podSelector: {}\n  policyTypes: []\n  egress: [{}]\n', ['Ingress', 'Egress']],
    ['explicit Egress only', '  podSelector: {}\n  policyTypes: [Egress]\n  ingress: [{}]\n', ['Egress']],
    ['explicit order is normalised', '  podSelector: {}\n  policyTypes: [Egress, Ingress]\n', ['Ingress', 'Egress']],
  ])('%s', (_, spec, expected) => {
    expect(policy(spec).decl!.policyTypes).toEqual(expected);
  });

  test('unsupported policy type', () => {
    expect(policy('  podSelector: {}\n  policyTypes: [Ingress, Both]\n').codes).toEqual(['NI1201@8:26']);
  });
});

describe('{} versus []', () => {
  test('ingress: [] has no rules; from: [] and absent from match all peers; podSelector {} matches all pods', () => {
    const { decl, codes } = policy('  podSelector: {}\n  ingress:\n  - from: []\n    ports: [{port: 80}]\n  - ports: [{port: 81}]\n');
    expect(codes).toEqual([]);
    expect(withoutSpans(decl!.ingress)).toEqual([
      { peers: [], ports: [{ protocol: 'tcp', port: { value: 80 } }] },
      { peers: [], ports: [{ protocol: 'tcp', port: { value: 81 } }] },
    ]);
    expect(decl!.podSelector.terms).toEqual([]);
  });

  test('missing podSelector selects all pods; namespace defaults to "default"', () => {
    const { decl } = policy('  ingress: []\n', '  name: p\n');
    expect(decl!.namespace.value).toBe('default');
    expect(decl!.podSelector.terms).toEqual([]);
    expect(decl!.ingress).toEqual([]);
  });

  test('podSelector and namespaceSelector together are ANDed in one peer; {} namespaceSelector = all namespaces', () => {
    const { decl } = policy('  podSelector: {}\n  ingress:\n  - from:\n    - podSelector: {matchLabels: {a: b}}\n      namespaceSelector: {}\n');
    expect(withoutSpans(decl!.ingress[0]!.peers)).toEqual([{ kind: 'pods', podSelector: label('a', 'b'), namespaceSelector: { terms: [] } }]);
  });
});

describe('ports', () => {
  test('protocol defaults to TCP; named port; endPort; port absent = all ports of the protocol', () => {
    const { decl, codes } = policy(
      '  podSelector: {}\n  egress:\n  - ports:\n    - port: 53\n    - {protocol: UDP, port: dns}\n    - {protocol: TCP, port: 32000, endPort: 32768}\n    - {protocol: SCTP}\n',
    );
    expect(codes).toEqual([]);
    expect(withoutSpans(decl!.egress[0]!.ports)).toEqual([
      { protocol: 'tcp', port: { value: 53 } },
      { protocol: 'udp', name: { value: 'dns' } },
      { protocol: 'tcp', port: { value: 32000 }, endPort: { value: 32768 } },
      { protocol: 'sctp' },
    ]);
  });

  test.each([
    ['endPort with a named port', '{port: http, endPort: 90}', 'endPort may not be specified when port is non-numeric'],
    ['endPort without port', '{endPort: 90}', 'endPort may not be specified when port is not specified'],
    ['endPort below port', '{port: 90, endPort: 80}', 'endPort must be greater than or equal to port'],
    ['port out of range', '{port: 70000}', 'must be between 1 and 65535'],
    ['quoted number is not a port name', '{port: "80"}', 'neither a port number nor a valid port name'],
    ['unsupported protocol', '{protocol: ICMP}', 'unsupported value "ICMP"'],
    ['unknown field', '{prot: 80}', 'unknown field "spec.ingress[0].ports[0].prot"'],
  ])('%s', (_, port, fragment) => {
    const { decl, codes, messages } = policy(`  podSelector: {}\n  ingress:\n  - ports: [${port}]\n`);
    expect(decl).toBeUndefined();
    expect(codes[0]).toMatch(/^NI1201@9:/);
    expect(messages[0]).toContain(fragment);
    expect(messages[0]).toContain('Invalid NetworkPolicy ns/p:');
  });
});

describe('peers', () => {
  test('ipBlock with a selector is invalid', () => {
    const { decl, codes, messages } = policy('  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/8}\n      podSelector: {}\n');
    expect(decl).toBeUndefined();
    expect(codes).toEqual(['NI1201@10:7']);
    expect(messages[0]).toContain('may not specify both ipBlock and another peer');
  });

  test('an empty peer is invalid', () => {
    expect(policy('  podSelector: {}\n  egress:\n  - to: [{}]\n').codes).toEqual(['NI1201@9:10']);
  });

  test('ipBlock needs cidr', () => {
    expect(policy('  podSelector: {}\n  egress:\n  - to: [{ipBlock: {except: [10.0.0.0/9]}}]\n').messages[0]).toContain('ipBlock.cidr is required');
  });
});

describe('label selectors', () => {
  test('matchLabels and matchExpressions map to selector terms', () => {
    const { decl } = policy(
      '  podSelector:\n    matchLabels: {app.kubernetes.io/name: web}\n    matchExpressions:\n    - {key: tier, operator: In, values: [a, b]}\n    - {key: env, operator: NotIn, values: [dev]}\n    - {key: x, operator: Exists}\n    - {key: y, operator: DoesNotExist}\n',
    );
    expect(withoutSpans(decl!.podSelector.terms)).toEqual([
      { key: { value: 'app.kubernetes.io/name' }, op: 'eq', values: [{ value: 'web' }] },
      { key: { value: 'tier' }, op: 'in', values: [{ value: 'a' }, { value: 'b' }] },
      { key: { value: 'env' }, op: 'notin', values: [{ value: 'dev' }] },
      { key: { value: 'x' }, op: 'exists', values: [] },
      { key: { value: 'y' }, op: 'notexists', values: [] },
    ]);
  });

  test.each([
    ['In without values', '{key: a, operator: In}', 'NI1202@9:7', 'operator In needs at least one value'],
    ['NotIn with empty values', '{key: a, operator: NotIn, values: []}', 'NI1202@9:41', 'operator NotIn needs at least one value'],
    ['Exists with values', '{key: a, operator: Exists, values: [b]}', 'NI1202@9:42', 'operator Exists must not have values'],
    ['DoesNotExist with values', '{key: a, operator: DoesNotExist, values: [b]}', 'NI1202@9:48', 'must not have values'],
    ['unknown operator', '{key: a, operator: Equals, values: [b]}', 'NI1202@9:26', '"Equals" is not a valid operator'],
    ['bad label key', '{key: -a, operator: Exists}', 'NI1202@9:13', 'not a valid label name'],
  ])('%s', (_, expression, at, fragment) => {
    const { decl, codes, messages } = policy(`  podSelector:\n    matchExpressions:\n    - ${expression}\n`);
    expect(decl).toBeUndefined();
    expect(codes).toEqual([at]);
    expect(messages[0]).toContain(fragment);
  });

  test('label value that is not a string', () => {
    expect(policy('  podSelector: {matchLabels: {version: 1.0}}\n').codes).toEqual(['NI1202@7:40']);
  });
});

describe('documents and lists', () => {
  test('multi-document file: several policies and other kinds', () => {
    const text = `apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n${canonical}---\n${canonical.replace('test-network-policy', 'second')}`;
    const { decls, diagnostics } = parse(text);
    expect(diagnostics).toEqual([]);
    expect(decls.map((d) => (d as NetworkPolicyDecl).name.value)).toEqual(['test-network-policy', 'second']);
  });

  test('v1 List (kubectl get -o yaml): NetworkPolicy items are read, others ignored', () => {
    const item = canonical.replace(/^/gm, '    ').replace(/^ {4}apiVersion/, '  - apiVersion');
    const text = `apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: s}\n${item}`;
    const { decls, diagnostics, formats } = parse(text);
    expect(diagnostics).toEqual([]);
    expect(formats).toEqual(['netpol']);
    expect(withoutSpans(decls)).toEqual(withoutSpans(parse(canonical).decls));
    expect(decls[0]!.span.start).toMatchObject({ line: 7, col: 5 });
  });

  test('NetworkPolicy of another apiVersion: NI1103', () => {
    const { diagnostics } = parse('apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: a}\n');
    expect(where(diagnostics)).toEqual(['NI1103@2:7']);
  });

  test('unknown spec field and missing name', () => {
    const { codes, messages } = policy('  podSelector: {}\n  ingres: []\n', '  namespace: ns\n');
    expect(codes).toEqual(['NI1201@4:3', 'NI1201@7:3']);
    expect(messages).toEqual([
      'Invalid NetworkPolicy ns/?: metadata.name is required.',
      'Invalid NetworkPolicy ns/?: unknown field "spec.ingres" (expected podSelector, policyTypes, ingress, egress).',
    ]);
  });
});
