import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
await initBackend('wasm', { wasmThreads: 1 });
const bench = (name: string, f: () => unknown, n = 30) => {
  for (let i = 0; i < 3; i++) tf.dispose(f() as tf.Tensor);
  const cs: number[] = [];
  for (let i = 0; i < n; i++) { const c0 = process.cpuUsage(); tf.dispose(f() as tf.Tensor); const c = process.cpuUsage(c0); cs.push((c.user + c.system) / 1000); }
  cs.sort((a, b) => a - b);
  console.log(name.padEnd(30), 'cpu min', cs[0]!.toFixed(3), 'med', cs[n >> 1]!.toFixed(3));
};
const x = tf.randomNormal([1024, 256]);
bench('max -1', () => tf.max(x, -1));
bench('sum -1', () => tf.sum(x, -1));
bench('softmax', () => tf.softmax(x));
bench('log', () => tf.log(tf.abs(x)));
bench('mul', () => tf.mul(x, x));
const y = tf.randomNormal([16, 64, 128]);
bench('mean -1 [16,64,128]', () => tf.mean(y, -1, true));
bench('rsqrt [16,64,1]', () => tf.rsqrt(tf.abs(tf.randomNormal([16,64,1]))));
process.exit(0);
