// `ws` comes with wrangler (miniflare) and has no bundled types; this is the part the tests use.
declare module 'ws' {
  import type { IncomingMessage, ClientRequest } from 'node:http';
  class WebSocket {
    constructor(url: string, options?: { headers?: Record<string, string> });
    on(event: 'message', listener: (data: Buffer | string) => void): this;
    once(event: 'open', listener: () => void): this;
    once(event: 'error', listener: (err: Error) => void): this;
    once(event: 'close', listener: (code: number, reason: Buffer) => void): this;
    once(event: 'unexpected-response', listener: (req: ClientRequest, res: IncomingMessage) => void): this;
    send(data: string): void;
    close(code?: number): void;
  }
  export default WebSocket;
}
