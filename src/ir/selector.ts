import type { IrSelector, IrTenant, Ir } from './types.js';
import type { InventoryNamespace } from '../inventory/index.js';

/** Kubernetes label-selector semantics: every requirement must hold; [] matches all. */
export function matchesSelector(selector: IrSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const req of selector) {
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    switch (req.op) {
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      case 'In':
        if (!has || !req.values.includes(labels[req.key]!)) return false;
        break;
      case 'NotIn':
        // Upstream: NotIn also matches objects without the label.
        if (has && req.values.includes(labels[req.key]!)) return false;
        break;
    }
  }
  return true;
}

export function tenantOwnsNamespace(tenant: IrTenant, ns: InventoryNamespace): boolean {
  return tenant.namespaces.kind === 'names'
    ? tenant.namespaces.names.includes(ns.name)
    : matchesSelector(tenant.namespaces.selector, ns.labels);
}

/** The tenant owning a namespace, if any (the checker guarantees at most one by name). */
export function tenantOfNamespace(ir: Ir, ns: InventoryNamespace): IrTenant | undefined {
  return ir.tenants.find((t) => tenantOwnsNamespace(t, ns));
}
