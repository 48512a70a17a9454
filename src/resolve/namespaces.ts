/**
 * The inventory's namespaces by name and by owning tenant: what namespace scopes resolve
 * against, as lists (SelectorResolver, all pods of a selector at once) and one namespace at
 * a time (PodMembership, one pod at a time).
 */
import type { Ir, IrNamespaceScope, IrTenant } from '../ir/types.js';
import { matchesSelector, tenantOfNamespace } from '../ir/selector.js';
import type { InventoryNamespace } from '../inventory/index.js';

export class NamespaceIndex {
  private readonly byName: Map<string, InventoryNamespace>;
  private readonly owners = new Map<string, IrTenant | undefined>();
  /** Namespaces by owning tenant (under its name and its id), indexed on first use. */
  private owned?: Map<string, InventoryNamespace[]>;
  private readonly ownedNames = new Map<string, Set<string>>();

  constructor(
    private readonly ir: Ir,
    readonly all: readonly InventoryNamespace[],
  ) {
    this.byName = new Map(all.map((n) => [n.name, n]));
  }

  /** Kubernetes keeps namespace names unique; a hand-written inventory might not. */
  get namesUnique(): boolean {
    return this.byName.size === this.all.length;
  }

  /** The tenant owning a namespace (the checker allows at most one), indexed on first use. */
  private ownerOf(ns: InventoryNamespace): IrTenant | undefined {
    if (!this.owners.has(ns.name)) this.owners.set(ns.name, tenantOfNamespace(this.ir, ns));
    return this.owners.get(ns.name);
  }

  named(name: string): InventoryNamespace[] {
    const ns = this.byName.get(name);
    return ns ? [ns] : [];
  }

  ownedBy(tenant: string): InventoryNamespace[] {
    if (!this.owned) {
      this.owned = new Map();
      for (const ns of this.all) {
        const owner = this.ownerOf(ns);
        if (!owner) continue;
        for (const key of new Set([owner.name, owner.id])) {
          let list = this.owned.get(key);
          if (!list) this.owned.set(key, (list = []));
          list.push(ns);
        }
      }
    }
    return this.owned.get(tenant) ?? [];
  }

  /** Names of the tenant's namespaces: pods outside a tenant are those of every other namespace. */
  ownedNamesOf(tenant: string): ReadonlySet<string> {
    let names = this.ownedNames.get(tenant);
    if (!names) this.ownedNames.set(tenant, (names = new Set(this.ownedBy(tenant).map((ns) => ns.name))));
    return names;
  }

  in(scope: IrNamespaceScope): readonly InventoryNamespace[] {
    switch (scope.kind) {
      case 'names':
        return scope.names.flatMap((n) => this.named(n));
      case 'all':
        return this.all;
      case 'selector':
        return this.all.filter((ns) => matchesSelector(scope.selector, ns.labels));
      case 'tenant':
        return this.ownedBy(scope.tenant);
      case 'notTenant': {
        const inside = this.ownedNamesOf(scope.tenant);
        return this.all.filter((ns) => !inside.has(ns.name));
      }
    }
  }

  /** Whether the namespace called `name` is in scope: `in` for one namespace (with unique names). */
  contains(scope: IrNamespaceScope, name: string): boolean {
    const ns = this.byName.get(name);
    if (!ns) return false;
    switch (scope.kind) {
      case 'names':
        return scope.names.includes(name);
      case 'all':
        return true;
      case 'selector':
        return matchesSelector(scope.selector, ns.labels);
      case 'tenant':
        return this.ownedNamesOf(scope.tenant).has(name);
      case 'notTenant':
        return !this.ownedNamesOf(scope.tenant).has(name);
    }
  }
}
