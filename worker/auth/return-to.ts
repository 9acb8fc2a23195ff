/**
 * Where to send a person after sign-in. Only a path on this site is accepted: anything that a
 * browser could read as another origin (`https://evil.example`, `//evil.example`, `/\evil.example`,
 * `javascript:`…) is refused, so the sign-in flow cannot be used as an open redirect.
 */
export function safeReturnTo(value: string | undefined | null): string | undefined {
  if (value === undefined || value === null || value === '') return '/';
  if (value.length > 2000) return undefined;
  // Browsers treat a backslash like a slash and strip tabs and newlines inside URLs, so
  // `/\evil.example` and `/\t/evil.example` would become protocol-relative: refuse them outright.
  if (!value.startsWith('/') || value.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(value)) return undefined;
  const base = 'https://return-to.invalid';
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    return undefined;
  }
  if (url.origin !== base) return undefined;
  // Re-serialised by the URL parser, so quotes and spaces arrive percent-encoded.
  return `${url.pathname}${url.search}${url.hash}`;
}
