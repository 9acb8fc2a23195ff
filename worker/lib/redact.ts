// Whole words of a key name: `access_token` and `webhook_secret` are secret, `tokens` (a count) is not.
const SECRET_KEY = /(^|[_-])(secret|token|password|passwd|authorization|api[_-]?key|credentials?|private[_-]?key|cookie|signature)($|[_-])/i;
const SECRET_VALUE = /\b(ark_[a-z0-9]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|xox[abp]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,}|Bearer\s+[A-Za-z0-9._~+/-]{16,}=*)/g;

export const REDACTED = '[REDACTED]';

/**
 * Returns a copy with secrets removed: values under secret-looking keys, and strings that look
 * like tokens wherever they appear. Used before anything reaches logs, responses or the audit log.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 32) return REDACTED;
  if (typeof value === 'string') return value.replace(SECRET_VALUE, REDACTED);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEY.test(k) && v !== null && v !== undefined && v !== '' ? REDACTED : redact(v, depth + 1);
    }
    return out;
  }
  return value;
}
