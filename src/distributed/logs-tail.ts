/**
 * Following a job's log: Ray's `GET /api/jobs/{id}/logs/tail` is a WebSocket whose text
 * frames carry log chunks and which the server closes when the job's logs end.
 */
import WebSocket from 'ws';
import { BonsaiError } from '../errors.ts';

/** Resolves when the server closes the socket; rejects (BonsaiError) if it cannot open. */
export function tailJobLogs(url: string, headers: Record<string, string>, onChunk: (text: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    let opened = false;
    let refused = false; // a refused upgrade is reported from its body, not as a clean close
    ws.on('open', () => (opened = true));
    ws.on('message', (data, isBinary) => {
      if (!isBinary) onChunk(data.toString());
    });
    ws.on('unexpected-response', (_req, res) => {
      refused = true;
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => reject(new BonsaiError(`the Ray dashboard refused the log stream ${url} (${res.statusCode})${text.trim() ? `: ${text.trim()}` : ''}`)));
    });
    ws.on('error', (cause) => {
      if (!opened) reject(new BonsaiError(`cannot open the log stream ${url}: ${cause.message}`, { cause }));
      else reject(new BonsaiError(`the log stream ${url} broke: ${cause.message}`, { hint: 'run `bonsai ray logs ID` for the whole log', cause }));
    });
    ws.on('close', () => {
      if (!refused) resolve();
    });
  });
}
