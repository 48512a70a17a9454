/**
 * The admission engine: an AdmissionReview request in, an AdmissionReview response out.
 * Pure and side-effect-free; the webhook server and `netintent admit` share it and its
 * serialiser, so both give the same bytes.
 */
import type { Ir } from '../ir/types.js';
import { tenantOfNamespace } from '../ir/selector.js';
import type { CniFlavour } from './annotations.js';
import { indexIr } from './ir-index.js';
import { mutatePod } from './mutate-pod.js';
import { isObject, namespaceLabelsOf, readPod, type JsonObject } from './pod.js';
import { checkIntentSet, type CompileTexts } from './validate-intent-set.js';
import { validateNetworkPolicy } from './validate-network-policy.js';
import { validateEphemeralContainers, validatePod } from './validate-pod.js';
import { renderViolation, type Violation } from './violation.js';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';
export const ADMISSION_KIND = 'AdmissionReview';
/** Kubernetes shows at most this much of a warning; longer ones are cut. */
export const MAX_WARNING_LENGTH = 120;

export type AdmissionOperation = 'validate' | 'mutate';
export type RequestOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
const REQUEST_OPERATIONS = new Set<string>(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  operation: RequestOperation;
  name?: string;
  namespace?: string;
  /** `ephemeralcontainers` for `kubectl debug`; absent for the object itself. */
  subResource?: string;
  /** The object being admitted; null for DELETE and CONNECT. */
  object: JsonObject | null;
  /** The object before an UPDATE. */
  oldObject: JsonObject | null;
  dryRun: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string };
  patchType?: 'JSONPatch';
  /** Base64 of the JSON Patch. */
  patch?: string;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionReviewResponse {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: typeof ADMISSION_KIND;
  response: AdmissionResponse;
}

export interface AdmissionContext {
  /** Namespace labels (requests do not carry them): from the inventory or the API server. */
  namespaces: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Compiles IntentSet objects; without it they are allowed with a warning. */
  compileTexts?: CompileTexts;
  /** CNI whose own fixed-IP annotations mutation writes as well as netintent's. */
  cni?: CniFlavour;
}

/** A structurally valid request, or why it is not one (the server answers 400 with it). */
export function parseAdmissionReview(body: unknown): { request: AdmissionRequest } | { error: string } {
  if (!isObject(body)) return { error: 'body is not a JSON object' };
  if (body.apiVersion !== ADMISSION_API_VERSION || body.kind !== ADMISSION_KIND) {
    return { error: `expected apiVersion ${ADMISSION_API_VERSION} and kind ${ADMISSION_KIND}, got ${JSON.stringify(body.apiVersion)} / ${JSON.stringify(body.kind)}` };
  }
  const req = body.request;
  if (!isObject(req)) return { error: 'request is missing' };
  if (typeof req.uid !== 'string' || req.uid === '') return { error: 'request.uid is missing' };
  const kind = req.kind;
  if (!isObject(kind) || typeof kind.kind !== 'string' || typeof kind.version !== 'string') return { error: 'request.kind must be {group, version, kind}' };
  if (typeof req.operation !== 'string' || !REQUEST_OPERATIONS.has(req.operation)) {
    return { error: `request.operation ${JSON.stringify(req.operation)} is not CREATE, UPDATE, DELETE or CONNECT` };
  }
  const operation = req.operation as RequestOperation;
  const needsObject = operation === 'CREATE' || operation === 'UPDATE';
  if (needsObject && !isObject(req.object)) return { error: `request.object must be an object for ${operation}` };
  if (req.namespace !== undefined && typeof req.namespace !== 'string') return { error: 'request.namespace must be a string' };
  if (req.name !== undefined && typeof req.name !== 'string') return { error: 'request.name must be a string' };
  return {
    request: {
      uid: req.uid,
      kind: { group: typeof kind.group === 'string' ? kind.group : '', version: kind.version, kind: kind.kind },
      operation,
      ...(typeof req.name === 'string' ? { name: req.name } : {}),
      ...(typeof req.namespace === 'string' ? { namespace: req.namespace } : {}),
      ...(typeof req.subResource === 'string' && req.subResource !== '' ? { subResource: req.subResource } : {}),
      object: isObject(req.object) ? req.object : null,
      oldObject: isObject(req.oldObject) ? req.oldObject : null,
      dryRun: req.dryRun === true,
    },
  };
}

function clampWarning(text: string): string {
  return text.length <= MAX_WARNING_LENGTH ? text : `${text.slice(0, MAX_WARNING_LENGTH - 1)}…`;
}

function respond(uid: string, violations: Violation[], warnings: string[], extra: Partial<AdmissionResponse> = {}): AdmissionReviewResponse {
  const allowed = violations.length === 0;
  const codes = [...new Set(violations.map((v) => v.code))].sort();
  const response: AdmissionResponse = {
    uid,
    allowed,
    ...(allowed ? {} : { status: { code: 403, message: violations.map(renderViolation).join('\n') } }),
    ...extra,
    ...(warnings.length ? { warnings: warnings.map(clampWarning) } : {}),
  };
  if (!allowed) response.auditAnnotations = { verdict: 'denied', codes: codes.join(',') };
  return { apiVersion: ADMISSION_API_VERSION, kind: ADMISSION_KIND, response };
}

type ReviewedKind = 'Pod' | 'NetworkPolicy' | 'IntentSet';

/** The kinds netintent reviews, by API group. */
export function reviewedKind(kind: AdmissionRequest['kind']): ReviewedKind | undefined {
  if (kind.group === '' && kind.kind === 'Pod') return 'Pod';
  if (kind.group === 'networking.k8s.io' && kind.kind === 'NetworkPolicy') return 'NetworkPolicy';
  if (kind.group === 'netintent.dev' && kind.kind === 'IntentSet') return 'IntentSet';
  return undefined;
}

/**
 * Reviews one request against the intents. dryRun changes nothing: the engine has no
 * side effects to skip. A fault in the engine answers as the webhook's failurePolicy
 * would (validate denies, mutate allows unchanged) but says why, instead of a 500.
 */
export function review(ir: Ir, context: AdmissionContext, request: AdmissionRequest, options: { operation: AdmissionOperation }): AdmissionReviewResponse {
  try {
    return reviewRequest(ir, context, request, options);
  } catch (e) {
    const fault: Violation = { code: 'NI9004', args: [(e as Error).message] };
    return options.operation === 'validate' ? respond(request.uid, [fault], []) : respond(request.uid, [], [renderViolation(fault)]);
  }
}

function reviewRequest(ir: Ir, context: AdmissionContext, request: AdmissionRequest, options: { operation: AdmissionOperation }): AdmissionReviewResponse {
  const { uid, object } = request;
  const kind = reviewedKind(request.kind);
  if (!kind) return respond(uid, [], [renderViolation({ code: 'NI7015', args: [`${request.kind.group || 'core'}/${request.kind.kind}`] })]);
  // Deletes and connects carry nothing to check; pod networking is fixed at creation,
  // except for the ephemeral containers `kubectl debug` adds later.
  if (!object || request.operation === 'DELETE' || request.operation === 'CONNECT') return respond(uid, [], []);
  const index = indexIr(ir);
  if (kind === 'Pod' && request.operation === 'UPDATE' && request.subResource === 'ephemeralcontainers' && options.operation === 'validate') {
    const pod = readPod(index, object, request.namespace, context.namespaces);
    const oldSpec = isObject(request.oldObject?.spec) ? request.oldObject.spec : {};
    return respond(uid, validateEphemeralContainers(index, pod, oldSpec), []);
  }
  if (kind === 'Pod' && request.operation !== 'CREATE') return respond(uid, [], []);

  if (options.operation === 'mutate') {
    if (kind !== 'Pod') return respond(uid, [], []);
    const pod = readPod(index, object, request.namespace, context.namespaces);
    const mutation = mutatePod(index, pod, object, context.cni);
    if (mutation.patch.length === 0) return respond(uid, [], []);
    return respond(uid, [], [], {
      patchType: 'JSONPatch',
      patch: Buffer.from(JSON.stringify(mutation.patch)).toString('base64'),
      auditAnnotations: { patched: mutation.changed.join(',') },
    });
  }

  const meta = isObject(object.metadata) ? object.metadata : {};
  const objectNamespace = request.namespace || (typeof meta.namespace === 'string' ? meta.namespace : '');
  const namespace = objectNamespace || 'default';
  const name = request.name || (typeof meta.name === 'string' ? meta.name : '');
  switch (kind) {
    case 'Pod':
      return respond(uid, validatePod(index, readPod(index, object, request.namespace, context.namespaces)), []);
    case 'NetworkPolicy': {
      const tenant = tenantOfNamespace(ir, { name: namespace, labels: { ...namespaceLabelsOf(context.namespaces, namespace) } });
      return respond(uid, validateNetworkPolicy(index, tenant, `${namespace}/${name}`, object, context.namespaces), []);
    }
    case 'IntentSet': {
      const display = objectNamespace ? `${objectNamespace}/${name}` : name;
      if (!context.compileTexts) return respond(uid, [], [renderViolation({ code: 'NI7016', args: [display] })]);
      const verdict = checkIntentSet(context.compileTexts, `intentset/${display}.yaml`, object);
      const describe = verdict.errors.slice(0, 3).map((d) => `${d.code} ${d.span ? `line ${d.span.start.line} ` : ''}${d.message}`);
      if (verdict.errors.length > 3) describe.push(`and ${verdict.errors.length - 3} more`);
      const violations: Violation[] = verdict.errors.length ? [{ code: 'NI7014', args: [display, describe.join('; ')] }] : [];
      return respond(uid, violations, verdict.warnings.map((d) => `${d.code} ${d.message}`));
    }
  }
}

/** The response body, byte for byte what the server sends and `netintent admit` prints. */
export function serialiseAdmissionResponse(response: AdmissionReviewResponse): string {
  return JSON.stringify(response);
}

/** Body of a 400 answer to a request that is not a usable AdmissionReview. */
export function serialiseBadRequest(message: string): string {
  return JSON.stringify({ error: 'BadRequest', message });
}

/** The body of a 500: no detail of the failure (that goes to the server's log). */
export function serialiseInternalError(): string {
  return JSON.stringify({ error: 'InternalError', message: 'internal error; the webhook log has the details' });
}
