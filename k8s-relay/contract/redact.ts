import { replaceJwts, replacePrivateKeys } from './redact-scan';

// Whole words of a key name: `access_token` and `webhook_secret` are secret, `tokens` (a count) and
// `key_id` are not. camelCase names are split first, so `clientSecret` and `apiKey` match too.
const SECRET_KEY =
  /(^|[_-])(secret|token|password|passwd|passphrase|authorization|api[_-]?key|admin[_-]?key|access[_-]?key|signing[_-]?key|private[_-]?key|hmac[_-]?keys?|credentials?|cookie|set[_-]cookie|signature|code[_-]verifier)($|[_-])/i;

// Values that are credentials wherever they appear, in any field or inside longer text. Every
// pattern here runs in linear time: a quantified run either ends the match (the run is the token)
// or fails within a bounded distance (its minimum length, the next space or slash). JWTs and PEM
// keys, whose patterns backtracked quadratically, are found by the scanners in redact-scan.ts.
const SECRET_VALUE = new RegExp(
  [
    String.raw`\bark_[a-z0-9]{16,}`, // this platform's API keys
    String.raw`\bgh[pousr]_[A-Za-z0-9]{20,}`, // GitHub tokens
    String.raw`\bgithub_pat_[A-Za-z0-9_]{20,}`,
    String.raw`\bxox[abp]-[A-Za-z0-9-]{10,}`, // Slack
    String.raw`\bsk-[A-Za-z0-9_-]{20,}`, // OpenAI, Anthropic
    String.raw`\bATATT[A-Za-z0-9_=-]{20,}`, // Atlassian API tokens
    String.raw`\bAKIA[0-9A-Z]{16}\b`, // AWS access key ids
    String.raw`\bv1:[A-Za-z0-9+/]{16}:[A-Za-z0-9+/]{16,}={0,2}`, // credentials sealed with SECRETS_KEY (worker/lib/secrets.ts)
    String.raw`\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/-]{12,}=*`,
  ].join('|'),
  'g',
);
// `scheme://user:password@host` and `?token=…`: the name stays, the value goes.
const URL_PASSWORD = /(:\/\/[^\s:/@]+:)[^\s@/]+(?=@)/g;
const QUERY_SECRET = /([?&](?:access_token|token|api_key|apikey|key|secret|password|sig|signature|code)=)[^&\s#"']+/gi;

export const REDACTED = '[REDACTED]';

export function isSecretKey(name: string): boolean {
  return SECRET_KEY.test(name.replace(/([a-z0-9])([A-Z])/g, '$1_$2'));
}

export function redactText(text: string): string {
  return replacePrivateKeys(replaceJwts(text, REDACTED), REDACTED)
    .replace(SECRET_VALUE, REDACTED).replace(URL_PASSWORD, `$1${REDACTED}`).replace(QUERY_SECRET, `$1${REDACTED}`);
}

/**
 * Returns a copy with secrets removed: values under secret-looking keys, and strings that look
 * like tokens wherever they appear. Used before anything reaches logs, responses or the audit log.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 32) return REDACTED;
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretKey(k) && v !== null && v !== undefined && v !== '' ? REDACTED : redact(v, depth + 1);
    }
    return out;
  }
  return value;
}
