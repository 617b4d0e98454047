// The agent's status as JSON on 127.0.0.1 only: it names the dataplane and its certificate, never the key.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentStatus } from './client.js';

export async function startStatusServer(port: number, status: () => AgentStatus): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/' && req.url !== '/status')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"GET /status"}\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(status())}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
