/**
 * Secrets masked in logs, errors, traces and the audit log. The rules are shared with the k8s
 * relay (its logs mask the same way), so they live in the relay's contract.
 */
export { REDACTED, isSecretKey, redact, redactText } from '../../k8s-relay/contract/redact';
