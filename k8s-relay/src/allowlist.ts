import { RelayError } from './errors';
import type { HelloMessage, K8sAction } from '../contract/protocol';

/**
 * The relay's own limits, checked after the hub's policies: even a compromised or misconfigured
 * hub cannot make the relay act outside the namespaces and actions the cluster owner listed.
 */
export class Allowlist {
  constructor(
    readonly namespaces: '*' | readonly string[],
    readonly actions: readonly K8sAction[],
  ) {}

  allowsNamespace(namespace: string): boolean {
    return this.namespaces === '*' || this.namespaces.includes(namespace);
  }

  assertAction(action: K8sAction): void {
    if (!this.actions.includes(action)) {
      throw new RelayError(
        'action_not_allowed',
        `${action} is not allowed by this relay (ALLOWED_ACTIONS: ${this.actions.join(', ') || 'none'})`,
      );
    }
  }

  /** `what` names the object for the message, e.g. "deployment payments/api". */
  assertNamespace(namespace: string, what: string): void {
    if (!this.allowsNamespace(namespace)) {
      throw new RelayError(
        'namespace_not_allowed',
        `${what} is in namespace "${namespace}", which this relay may not act in (ALLOWED_NAMESPACES: ${this.describeNamespaces()})`,
      );
    }
  }

  describeNamespaces(): string {
    return this.namespaces === '*' ? '*' : this.namespaces.join(', ');
  }

  summary(): HelloMessage['allowlist'] {
    return { namespaces: this.namespaces === '*' ? '*' : [...this.namespaces], actions: [...this.actions] };
  }
}
