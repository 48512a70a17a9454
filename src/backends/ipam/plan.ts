/**
 * The IPAM plan: the IR's address parts (`pools`, `fixedIps`, `tenants`) as one JSON
 * document, which `netintent compile --target ipam` prints and the CNI plugin reads.
 */
import { IR_VERSION, type Ir, type IrFixedIp, type IrPool, type IrTenant } from '../../ir/types.js';
import { CniCode, ipamError } from './errors.js';

export const IPAM_PLAN_VERSION = 'netintent.dev/ipam-plan/v1alpha1';

export interface IpamPlan {
  version: typeof IPAM_PLAN_VERSION;
  irVersion: typeof IR_VERSION;
  pools: IrPool[];
  fixedIps: IrFixedIp[];
  tenants: IrTenant[];
}

/** Pure: the IR is already canonical and sorted, so the plan is too. */
export function renderIpamPlan(ir: Ir): IpamPlan {
  return { version: IPAM_PLAN_VERSION, irVersion: ir.version, pools: ir.pools, fixedIps: ir.fixedIps, tenants: ir.tenants };
}

/** Parses a plan file, checking the shape the plugin relies on. */
export function parseIpamPlan(file: string, text: string): IpamPlan {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw ipamError(CniCode.invalidConfig, 'NI8107', [file, (e as Error).message]);
  }
  const plan = value as Partial<IpamPlan> | null;
  if (typeof plan !== 'object' || plan === null || plan.version !== IPAM_PLAN_VERSION) {
    throw ipamError(CniCode.invalidConfig, 'NI8107', [file, `"version" must be "${IPAM_PLAN_VERSION}"`]);
  }
  for (const part of ['pools', 'fixedIps', 'tenants'] as const) {
    if (!Array.isArray(plan[part])) throw ipamError(CniCode.invalidConfig, 'NI8107', [file, `"${part}" must be a list`]);
  }
  for (const pool of plan.pools!) {
    if (typeof pool?.id !== 'string' || !Array.isArray(pool.ranges) || !Array.isArray(pool.reserved) || (pool.family !== 4 && pool.family !== 6)) {
      throw ipamError(CniCode.invalidConfig, 'NI8107', [file, `pool ${JSON.stringify(pool?.id)} needs id, family, ranges and reserved`]);
    }
  }
  return plan as IpamPlan;
}
