import { createServer, type AddressInfo } from 'node:net';
import { BonsaiError } from '../../src/errors.ts';

/** A port nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** The BonsaiError a promise rejects with; anything else (or success) fails the test. */
export async function failure(p: Promise<unknown>): Promise<BonsaiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof BonsaiError) return e;
    throw e;
  }
  throw new Error('expected a BonsaiError');
}
