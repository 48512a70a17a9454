/**
 * Kubernetes manifests for running the webhook: ServiceAccount allowed to read namespaces,
 * Deployment (2 replicas, spread) + PDB, Service, cert-manager Issuer/Certificate for the
 * serving certificate, and the Validating/MutatingWebhookConfigurations. Pure: options in,
 * multi-document YAML out.
 */
import { stringify } from 'yaml';

export interface ManifestOptions {
  namespace: string;
  image: string;
  replicas?: number;
  /** PEM CA bundle; without it cert-manager injects the CA of the Certificate below. */
  caBundle?: string;
}

const NAME = 'netintent-webhook';
const LABELS = { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/part-of': 'netintent' };

export function renderManifests(options: ManifestOptions): string {
  const { namespace, image } = options;
  const replicas = Math.max(2, options.replicas ?? 2);
  const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace, labels: LABELS, ...extra });
  const clusterMeta = {
    name: NAME,
    labels: LABELS,
    ...(options.caBundle === undefined ? { annotations: { 'cert-manager.io/inject-ca-from': `${namespace}/${NAME}` } } : {}),
  };
  const clientConfig = (path: string) => ({
    service: { name: NAME, namespace, path, port: 443 },
    ...(options.caBundle !== undefined ? { caBundle: Buffer.from(options.caBundle).toString('base64') } : {}),
  });
  // Never review the control plane's own namespaces, nor the webhook's (it could block its own pods).
  const namespaceSelector = {
    matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-node-lease', 'kube-system', namespace].sort() }],
  };
  const common = { namespaceSelector, sideEffects: 'None', admissionReviewVersions: ['v1'], timeoutSeconds: 5, matchPolicy: 'Equivalent' };

  const docs: unknown[] = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(NAME) },
    // Namespace labels decide tenants; AdmissionReviews do not carry them.
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: NAME, labels: LABELS }, rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list'] }] },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: NAME, labels: LABELS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAME },
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace }],
    },
    { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: meta(`${NAME}-selfsigned`), spec: { selfSigned: {} } },
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: meta(NAME),
      spec: {
        secretName: `${NAME}-tls`,
        dnsNames: [`${NAME}.${namespace}.svc`, `${NAME}.${namespace}.svc.cluster.local`],
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        issuerRef: { name: `${NAME}-selfsigned`, kind: 'Issuer' },
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(NAME),
      spec: {
        replicas,
        selector: { matchLabels: LABELS },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: { labels: LABELS },
          spec: {
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: LABELS } } },
                ],
              },
            },
            serviceAccountName: NAME,
            securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'webhook',
                image,
                args: ['webhook', 'serve', '/etc/netintent/intents', '--tls-cert', '/etc/netintent/tls/tls.crt', '--tls-key', '/etc/netintent/tls/tls.key', '--port', '8443', '--namespaces-from-api'],
                ports: [{ name: 'https', containerPort: 8443 }],
                readinessProbe: { httpGet: { path: '/readyz', port: 'https', scheme: 'HTTPS' }, periodSeconds: 5 },
                livenessProbe: { httpGet: { path: '/healthz', port: 'https', scheme: 'HTTPS' }, periodSeconds: 10 },
                resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                volumeMounts: [
                  { name: 'intents', mountPath: '/etc/netintent/intents', readOnly: true },
                  { name: 'tls', mountPath: '/etc/netintent/tls', readOnly: true },
                ],
              },
            ],
            // Drain in-flight reviews on SIGTERM before the pod goes.
            terminationGracePeriodSeconds: 30,
            volumes: [
              { name: 'intents', configMap: { name: 'netintent-intents' } },
              { name: 'tls', secret: { secretName: `${NAME}-tls` } },
            ],
          },
        },
      },
    },
    { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta(NAME), spec: { minAvailable: 1, selector: { matchLabels: LABELS } } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(NAME),
      spec: { selector: LABELS, ports: [{ name: 'https', port: 443, targetPort: 'https' }] },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: clusterMeta,
      webhooks: [
        {
          name: 'validate.netintent.dev',
          clientConfig: clientConfig('/validate'),
          rules: [
            { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' },
            // `kubectl debug` adds containers to running pods through this subresource.
            { apiGroups: [''], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['pods/ephemeralcontainers'], scope: 'Namespaced' },
            { apiGroups: ['networking.k8s.io'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['networkpolicies'], scope: 'Namespaced' },
            { apiGroups: ['netintent.dev'], apiVersions: ['v1alpha1'], operations: ['CREATE', 'UPDATE'], resources: ['intentsets'], scope: '*' },
          ],
          failurePolicy: 'Fail',
          ...common,
        },
      ],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: clusterMeta,
      webhooks: [
        {
          name: 'mutate.netintent.dev',
          clientConfig: clientConfig('/mutate'),
          rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' }],
          // A pod admitted without the annotations still passes validation (Fail);
          // blocking every pod while the mutating side is down would be worse.
          failurePolicy: 'Ignore',
          reinvocationPolicy: 'Never',
          ...common,
        },
      ],
    },
  ];
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}
