/** The admission webhook server (HTTPS edge of src/admission) and its intent loading. */
export { BODY_LIMIT_BYTES, startWebhookServer, type WebhookServer, type WebhookServerOptions } from './server.js';
export { sourcesCompiler, type CompileResult, type IntentCompiler } from './compiler.js';
export { admissionContextOf, loadAdmissionState, type AdmissionState } from './intent-store.js';
export { renderManifests, type ManifestOptions } from './manifests.js';
export { ApiServerNamespaces, inClusterAccess, type ApiServerAccess } from './namespace-labels.js';
