/**
 * Idempotency keys for a form that starts something (POST /runs). Sending the same request again
 * — after a network error, a timeout, a 5xx, a double click — reuses the key, so the server answers
 * with the run the first one made instead of starting a second; changing what is sent takes a new
 * key (the server refuses a key reused for a different request with 409). `randomBytes(n)` gives n
 * random bytes: the browser's CSPRNG unless a test says otherwise.
 */
export function submissionKeys(randomBytes: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n))) {
  let last: { request: string; key: string } | undefined;
  return {
    /** The key for this request: the previous one while the request is unchanged. */
    keyFor(request: unknown): string {
      const text = JSON.stringify(request);
      if (last?.request === text) return last.key;
      const hex = Array.from(randomBytes(16), (b) => b.toString(16).padStart(2, '0')).join('');
      last = { request: text, key: `ui-${hex}` };
      return last.key;
    },
    /** The request was answered (the run exists): the next one is a new request whatever it holds. */
    done(): void {
      last = undefined;
    },
  };
}
