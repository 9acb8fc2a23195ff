// See https://svelte.dev/docs/kit/types#app.d.ts
declare global {
  namespace App {
    /** What the error pages show: the API's own code and request id when the error came from it. */
    interface Error {
      message: string;
      code?: string;
      request_id?: string;
    }
  }
}

export {};
