/**
 * Durations in runbook notation (`30s`, `5m`, `1h30m`). The parser is shared with the k8s relay
 * (a drain's timeout is parsed the same on both sides), so it lives in the relay's contract.
 */
export { parseDuration } from '../../k8s-relay/contract/duration';
