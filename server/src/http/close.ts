import type { Server } from 'node:http';

/**
 * Stops accepting connections and resolves once every open one has ended.
 * `http.Server.close()` closes the keep-alive connections idle at that
 * moment, but one whose request is still being answered stays open after
 * its answer until the keep-alive timeout (65 s here), so shutdown would
 * wait that long for a request that was in flight. Idle connections are
 * closed again every `sweepMs` until none is left.
 */
export function closeServer(server: Server, sweepMs = 50): Promise<void> {
  return new Promise((resolve, reject) => {
    const sweep = setInterval(() => server.closeIdleConnections(), sweepMs);
    server.close((error) => {
      clearInterval(sweep);
      if (error) reject(error);
      else resolve();
    });
    server.closeIdleConnections();
  });
}
