import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BonsaiError } from '../../src/errors.ts';
import { readSafetensors, readSafetensorsBuffer, safetensorsBuffer, writeSafetensors } from '../../src/models/safetensors.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'bonsai-st-'));

/** Builds a file by hand: u64 LE length, header text, data bytes. */
function handBuilt(header: string, data: number[], declaredLen?: number): Buffer {
  const h = Buffer.from(header, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(declaredLen ?? h.length));
  return Buffer.concat([len, h, Buffer.from(data)]);
}

// Written by the reference implementation (Python `safetensors` 0.8.0, numpy):
// save({'w': f32 [[1.5,-2]], 'ids': i32 [3,-4], 'h': f16 [1,-0.5,65504,6e-8]}, metadata={'format':'pt'})
const REFERENCE_HEX =
  'c8000000000000007b225f5f6d657461646174615f5f223a7b22666f726d6174223a227074227d2c2277223a7b226474797065223a22463332222c22736861' +
  '7065223a5b312c325d2c22646174615f6f666673657473223a5b302c385d7d2c22696473223a7b226474797065223a22493332222c227368617065223a5b32' +
  '5d2c22646174615f6f666673657473223a5b382c31365d7d2c2268223a7b226474797065223a22463136222c227368617065223a5b345d2c22646174615f' +
  '6f666673657473223a5b31362c32345d7d7d20200000c03f000000c003000000fcffffff003c00b8ff7b0100';

describe('safetensors', () => {
  it('writes byte-for-byte what the reference writer writes, and reads it back', () => {
    const ref = Buffer.from(REFERENCE_HEX, 'hex');
    const ours = safetensorsBuffer(
      {
        ids: { dtype: 'I32', shape: [2], data: new Int32Array([3, -4]) },
        h: { dtype: 'F16', shape: [4], data: new Float32Array([1, -0.5, 65504, 6e-8]) },
        w: { dtype: 'F32', shape: [1, 2], data: new Float32Array([1.5, -2]) },
      },
      { format: 'pt' },
    );
    expect(ours.toString('hex')).toBe(REFERENCE_HEX);
    const back = readSafetensorsBuffer(ref);
    expect(back.metadata).toEqual({ format: 'pt' });
    expect(back.tensors.w).toEqual({ dtype: 'F32', shape: [1, 2], data: new Float32Array([1.5, -2]) });
    expect(back.tensors.ids!.data).toEqual(new Int32Array([3, -4]));
    // F16 reads as Float32Array; 6e-8 rounds to the nearest half subnormal, 1 × 2^-24.
    expect(back.tensors.h!.data).toEqual(new Float32Array([1, -0.5, 65504, 2 ** -24]));
  });

  it('round-trips every dtype through a file, header padded to 8 bytes', () => {
    const path = join(tmp(), 'm.safetensors');
    const bf = new Uint16Array([0x3f80, 0xc000]); // bf16 1.0, -2.0
    writeSafetensors(path, {
      f32: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
      i64: { dtype: 'I64', shape: [2], data: new BigInt64Array([1n, -(2n ** 40n)]) },
      u8: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 255]) },
      bf16: { dtype: 'BF16', shape: [2], data: bf },
      scalar: { dtype: 'F32', shape: [], data: new Float32Array([7]) },
      empty: { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
    });
    const raw = readFileSync(path);
    expect(Number(raw.readBigUInt64LE(0)) % 8).toBe(0);
    const { tensors, metadata } = readSafetensors(path);
    expect(metadata).toEqual({});
    expect(tensors.f32!.data).toEqual(new Float32Array([1, 2, 3, 4]));
    expect(tensors.i64!.data).toEqual(new BigInt64Array([1n, -(2n ** 40n)]));
    expect(tensors.u8!.data).toEqual(new Uint8Array([1, 2, 255]));
    expect(tensors.bf16!.data).toEqual(new Float32Array([1, -2]));
    expect(tensors.scalar).toEqual({ dtype: 'F32', shape: [], data: new Float32Array([7]) });
    expect(tensors.empty!.shape).toEqual([0, 3]);
  });

  it('reads a hand-built file whose tensors are not in data order', () => {
    const header = '{"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]},"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}';
    const { tensors } = readSafetensorsBuffer(handBuilt(header, [0x2a, 0, 0, 0, 9, 8]));
    expect(tensors.a!.data).toEqual(new Int32Array([42]));
    expect(tensors.b!.data).toEqual(new Uint8Array([9, 8]));
  });

  it('names the file and the problem when it is truncated', () => {
    const dir = tmp();
    const good = safetensorsBuffer({ w: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
    const cut = join(dir, 'cut.safetensors');
    writeFileSync(cut, good.subarray(0, good.length - 3));
    expect(() => readSafetensors(cut)).toThrow(BonsaiError);
    expect(() => readSafetensors(cut)).toThrow(/cut\.safetensors.*truncated: tensor w ends at data byte 16, file has 13/);
    const header = join(dir, 'header.safetensors');
    writeFileSync(header, handBuilt('{"w":{}}', [], 1234));
    expect(() => readSafetensors(header)).toThrow(/truncated: header says 1234 bytes, file has 8/);
    writeFileSync(header, Buffer.from([1, 2, 3]));
    expect(() => readSafetensors(header)).toThrow(/truncated: 3 bytes/);
  });

  it('refuses a corrupt header', () => {
    expect(() => readSafetensorsBuffer(handBuilt('{"w": {"dtype": "F32",', []), 'x.st')).toThrow(/x\.st.*not valid JSON/);
    expect(() => readSafetensorsBuffer(handBuilt('[1,2]   ', []))).toThrow(/does not start with/);
    expect(() => readSafetensorsBuffer(handBuilt('{"w":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}}', [0]))).toThrow(/dtype "Q7"/);
    expect(() => readSafetensorsBuffer(handBuilt('{"__metadata__":{"a":1}}', []))).toThrow(/__metadata__\.a/);
    const huge = Buffer.alloc(16);
    huge.writeBigUInt64LE(2n ** 60n);
    expect(() => readSafetensorsBuffer(huge)).toThrow(/probably not safetensors/);
  });

  it('refuses mis-sized and overlapping tensors', () => {
    const misSized = '{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}';
    expect(() => readSafetensorsBuffer(handBuilt(misSized, new Array(8).fill(0)))).toThrow(/shape \[3\] × F32 is 12 bytes, data_offsets give 8/);
    const overlap = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    expect(() => readSafetensorsBuffer(handBuilt(overlap, new Array(8).fill(0)))).toThrow(/overlap/);
    const backwards = '{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}';
    expect(() => readSafetensorsBuffer(handBuilt(backwards, new Array(8).fill(0)))).toThrow(/not \[begin, end\]/);
  });

  it('refuses to write data that does not fit its shape', () => {
    expect(() => safetensorsBuffer({ w: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/needs 12 bytes, data has 8/);
    expect(() => safetensorsBuffer({ __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } })).toThrow(/reserved/);
  });
});
