/**
 * The CNI edge of `netintent-ipam`: reads the environment and the network config,
 * runs one command, and renders the result or the CNI error JSON. CNI spec 1.0 and 1.1
 * (ADD, DEL, CHECK, VERSION; GC and STATUS from 1.1).
 *
 * The network config, the plan (with its layout) and the inventory are parsed once and
 * kept while they stay the same, for the daemon that runs every command of the node.
 */
import type { InventoryNamespace, InventoryPod } from '../../inventory/index.js';
import { canonicalIp } from './addresses.js';
import type { PodFacts } from './allocation.js';
import { readIpamConfig, type IpamConfig } from './config.js';
import { CniCode, IpamError, ipamError } from './errors.js';
import { ParsedFileCache } from './file-cache.js';
import { PlanLayout } from './layout.js';
import { parseIpamPlan } from './plan.js';
import { readAddressRequest, RequestError, type AddressRequest } from './requests.js';
import { addAttachment, checkAttachment, deleteAttachment, gcAttachments, type Attachment } from './operations.js';
import { storePerCommand, type LeaseStore, type LeaseStoreSource } from './store/index.js';

export const SUPPORTED_CNI_VERSIONS = ['1.0.0', '1.1.0'];
const VERSIONS_WITH_GC = new Set(['1.1.0']);

export interface CniOutcome {
  stdout: string;
  exitCode: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `K8S_POD_NAMESPACE=ns;K8S_POD_NAME=web-0;IgnoreUnknown=1` */
export function parseCniArgs(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (text ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0) out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

function errorJson(cniVersion: string, error: IpamError): CniOutcome {
  const d = error.diagnostic;
  const details = `${d.code}${d.help ? `: ${d.help}` : ''}`;
  return { stdout: `${JSON.stringify({ cniVersion, code: error.cniCode, msg: d.message, details })}\n`, exitCode: 1 };
}

/** Stdin parsed, and its network config once read. */
interface ParsedStdin {
  conf: unknown;
  config?: IpamConfig;
}

/** Stdin texts seen lately: a runtime sends the same network config for most commands. */
const parsedStdins = new Map<string, ParsedStdin>();
const PARSED_STDINS_KEPT = 64;

function parseStdin(stdin: string): ParsedStdin {
  const kept = parsedStdins.get(stdin);
  if (kept) {
    // Most recently used last: the first entry is the one to drop.
    parsedStdins.delete(stdin);
    parsedStdins.set(stdin, kept);
    return kept;
  }
  let conf: unknown = {};
  if (stdin.trim() !== '') {
    try {
      conf = JSON.parse(stdin);
    } catch (e) {
      throw ipamError(CniCode.decodingFailure, 'NI8106', [`stdin is not JSON: ${(e as Error).message}`]);
    }
  }
  const parsed: ParsedStdin = { conf };
  parsedStdins.set(stdin, parsed);
  if (parsedStdins.size > PARSED_STDINS_KEPT) parsedStdins.delete(parsedStdins.keys().next().value!);
  return parsed;
}

const cannotRead = (what: string) => (path: string, error: Error) => ipamError(CniCode.invalidConfig, 'NI8106', [`cannot read the ${what} ${path}: ${error.message}`]);

/** Each plan with its layouts, one per network config object (configs are kept by `parsedStdin`). */
const plans = new ParsedFileCache((path, text) => ({ plan: parseIpamPlan(path, text), layouts: new WeakMap<IpamConfig, PlanLayout>() }), cannotRead('plan'));

function planLayout(config: IpamConfig): PlanLayout {
  const { plan, layouts } = plans.read(config.plan);
  let layout = layouts.get(config);
  if (!layout) {
    layout = new PlanLayout(plan, config);
    layouts.set(config, layout);
  }
  return layout;
}

/** What the plugin needs of an inventory: pods and namespaces by name. */
interface InventoryIndex {
  pods: Map<string, InventoryPod>;
  namespaces: Map<string, InventoryNamespace>;
}

let inventories: ParsedFileCache<InventoryIndex> | undefined;

async function inventoryIndex(path: string): Promise<InventoryIndex> {
  if (!inventories) {
    // Loaded only here: the YAML parser is the largest part of a cold start.
    const { loadInventory } = await import('../../inventory/index.js');
    inventories ??= new ParsedFileCache((file, text) => {
      const { inventory } = loadInventory(file, text, { keepPodsWithoutIps: true });
      return { pods: new Map(inventory.pods.map((p) => [`${p.namespace}/${p.name}`, p])), namespaces: new Map(inventory.namespaces.map((n) => [n.name, n])) };
    }, cannotRead('inventory'));
  }
  return inventories.read(path);
}

/** Pod facts from CNI_ARGS, completed from the inventory file when one is configured. */
async function podFacts(config: IpamConfig, args: Record<string, string>): Promise<PodFacts> {
  const namespace = args.K8S_POD_NAMESPACE;
  const name = args.K8S_POD_NAME;
  if (!namespace || !name) throw ipamError(CniCode.invalidEnvironment, 'NI8114', ['CNI_ARGS must carry K8S_POD_NAMESPACE and K8S_POD_NAME']);
  const facts: PodFacts = {
    namespace,
    name,
    uid: args.K8S_POD_UID ?? '',
    annotations: {},
    namespaceLabels: { 'kubernetes.io/metadata.name': namespace },
  };
  if (!config.inventory) return facts;
  const inventory = await inventoryIndex(config.inventory);
  const pod = inventory.pods.get(`${namespace}/${name}`);
  const ns = inventory.namespaces.get(namespace);
  return {
    ...facts,
    uid: facts.uid || pod?.uid || '',
    ...(pod?.owner ? { owner: { kind: pod.owner.kind, name: pod.owner.name } } : {}),
    annotations: pod?.annotations ?? {},
    namespaceLabels: ns?.labels ?? facts.namespaceLabels,
  };
}

function attachmentOf(env: NodeJS.ProcessEnv): Attachment {
  const containerId = env.CNI_CONTAINERID;
  const ifname = env.CNI_IFNAME;
  if (!containerId || !ifname) throw ipamError(CniCode.invalidEnvironment, 'NI8114', ['CNI_CONTAINERID and CNI_IFNAME must be set']);
  return { containerId, ifname };
}

function validAttachments(conf: Obj): Attachment[] {
  const list = conf['cni.dev/valid-attachments'];
  if (!Array.isArray(list)) throw ipamError(CniCode.invalidConfig, 'NI8106', ['GC needs "cni.dev/valid-attachments" (a list)']);
  return list.map((a, i) => {
    if (!isObj(a) || typeof a.containerID !== 'string' || typeof a.ifname !== 'string') {
      throw ipamError(CniCode.invalidConfig, 'NI8106', [`cni.dev/valid-attachments[${i}] needs containerID and ifname`]);
    }
    return { containerId: a.containerID, ifname: a.ifname };
  });
}

/** IPs of `prevResult` (CHECK), without prefix length. */
function prevResultIps(conf: Obj): string[] | undefined {
  const prev = conf.prevResult;
  if (!isObj(prev) || !Array.isArray(prev.ips)) return undefined;
  return prev.ips.flatMap((entry) => {
    const ip = isObj(entry) && typeof entry.address === 'string' ? canonicalIp(entry.address.split('/')[0]!) : undefined;
    return ip ? [ip] : [];
  });
}

/** The address request of the runtime config (`runtimeConfig.ips`, `args.cni.ips`) or the pod's annotations. */
function requestOf(conf: Obj, pod: PodFacts): AddressRequest {
  try {
    const runtimeConfig = isObj(conf.runtimeConfig) ? conf.runtimeConfig : {};
    const args = isObj(conf.args) && isObj(conf.args.cni) ? conf.args.cni : {};
    return readAddressRequest({ runtimeIps: runtimeConfig.ips, argsIps: args.ips, annotations: pod.annotations });
  } catch (e) {
    if (!(e instanceof RequestError)) throw e;
    throw ipamError(CniCode.invalidConfig, 'NI8103', [e.value, `${pod.namespace}/${pod.name}`, e.source, e.message]);
  }
}

/** ADD: the CNI result with one address per lease, in CIDR form with the subnet's prefix and gateway. */
async function add(store: LeaseStore, config: IpamConfig, conf: Obj, attachment: Attachment, args: Record<string, string>, cniVersion: string): Promise<CniOutcome> {
  const layout = planLayout(config);
  const pod = await podFacts(config, args);
  const leases = await addAttachment(store, layout, attachment, pod, requestOf(conf, pod));
  const result = {
    cniVersion,
    ips: leases.map((lease) => {
      const where = layout.layoutOf(lease.ip);
      return { address: `${lease.ip}/${where.subnet.prefix}`, ...(where.gateway ? { gateway: where.gateway } : {}) };
    }),
    routes: config.routes,
    dns: {},
  };
  return { stdout: `${JSON.stringify(result)}\n`, exitCode: 0 };
}

/**
 * Runs one CNI command: the one code path of the plugin process and the daemon, which
 * differ only in `stores`. Never throws: failures become CNI error JSON.
 */
export async function runCni(env: NodeJS.ProcessEnv, stdin: string, stores: LeaseStoreSource = storePerCommand): Promise<CniOutcome> {
  const command = env.CNI_COMMAND;
  let cniVersion = SUPPORTED_CNI_VERSIONS[SUPPORTED_CNI_VERSIONS.length - 1]!;
  let store: LeaseStore | undefined;
  try {
    const parsed = parseStdin(stdin);
    const conf = parsed.conf;
    if (isObj(conf) && typeof conf.cniVersion === 'string') cniVersion = conf.cniVersion;
    if (command === 'VERSION') {
      return { stdout: `${JSON.stringify({ cniVersion, supportedVersions: SUPPORTED_CNI_VERSIONS })}\n`, exitCode: 0 };
    }
    if (!SUPPORTED_CNI_VERSIONS.includes(cniVersion)) {
      throw ipamError(CniCode.incompatibleVersion, 'NI8113', [cniVersion, SUPPORTED_CNI_VERSIONS.join(', ')]);
    }
    if ((command === 'GC' || command === 'STATUS') && !VERSIONS_WITH_GC.has(cniVersion)) {
      throw ipamError(CniCode.incompatibleVersion, 'NI8113', [`${cniVersion} (${command} needs 1.1.0)`, SUPPORTED_CNI_VERSIONS.join(', ')]);
    }
    if (!['ADD', 'DEL', 'CHECK', 'GC', 'STATUS'].includes(command ?? '')) {
      throw ipamError(CniCode.invalidEnvironment, 'NI8114', [`unknown CNI_COMMAND ${JSON.stringify(command ?? '')}`]);
    }
    const config = (parsed.config ??= readIpamConfig(conf));
    const confObj = conf as Obj;
    if (command === 'STATUS') {
      try {
        plans.read(config.plan);
        store = await stores.open(config.store, config.network);
        await store.ping();
      } catch (e) {
        if (e instanceof IpamError) throw new IpamError(CniCode.notAvailable, e.diagnostic);
        throw e;
      }
      return { stdout: '', exitCode: 0 };
    }
    if (command === 'DEL') {
      // DEL needs neither the plan nor the pod: leases name their attachment.
      store = await stores.open(config.store, config.network);
      await deleteAttachment(store, attachmentOf(env));
      return { stdout: '', exitCode: 0 };
    }
    if (command === 'GC') {
      const valid = validAttachments(confObj);
      store = await stores.open(config.store, config.network);
      await gcAttachments(store, valid, config.gcGraceMs);
      return { stdout: '', exitCode: 0 };
    }
    const attachment = attachmentOf(env);
    store = await stores.open(config.store, config.network);
    if (command === 'CHECK') {
      await checkAttachment(store, attachment, prevResultIps(confObj));
      return { stdout: '', exitCode: 0 };
    }
    return await add(store, config, confObj, attachment, parseCniArgs(env.CNI_ARGS), cniVersion);
  } catch (e) {
    if (e instanceof IpamError) return errorJson(cniVersion, e);
    return errorJson(cniVersion, ipamError(CniCode.ioFailure, 'NI9004', [(e as Error).stack ?? String(e)]));
  } finally {
    if (store) await stores.done(store);
  }
}
