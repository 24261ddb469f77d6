import * as decoding from 'lib0/decoding'
import { MindsyncError } from './errors.js'

/** A strict reader: every read names its field, so a malformed input says exactly what is wrong. */
export class Reader {
  private readonly d: decoding.Decoder
  constructor(
    bytes: Uint8Array,
    private readonly what: string,
  ) {
    this.d = decoding.createDecoder(bytes)
  }

  get remaining(): number {
    return this.d.arr.length - this.d.pos
  }

  private fail(field: string, problem: string): never {
    throw new MindsyncError('E_BAD_FRAME', `${this.what}: ${field} ${problem}`, field)
  }

  u8(field: string): number {
    if (this.remaining < 1) this.fail(field, 'is missing (input ends early)')
    return decoding.readUint8(this.d)
  }

  varUint(field: string, max = Number.MAX_SAFE_INTEGER): number {
    let n: number
    try {
      n = decoding.readVarUint(this.d)
    } catch {
      this.fail(field, 'is not a valid unsigned integer')
    }
    // lib0 returns NaN for an overlong run of 0x80 bytes; NaN would pass every comparison below.
    if (!Number.isSafeInteger(n)) this.fail(field, 'is not a valid unsigned integer')
    if (n > max) this.fail(field, `is ${n}, above the maximum ${max}`)
    return n
  }

  fixed(field: string, length: number): Uint8Array {
    if (this.remaining < length) this.fail(field, `needs ${length} bytes, only ${this.remaining} left`)
    return decoding.readUint8Array(this.d, length)
  }

  bytes(field: string, maxLength: number): Uint8Array {
    const length = this.varUint(`${field} length`)
    if (length > maxLength) this.fail(field, `is ${length} bytes, above the limit of ${maxLength}`)
    return this.fixed(field, length)
  }

  string(field: string, maxBytes: number): string {
    const raw = this.bytes(field, maxBytes)
    try {
      // ignoreBOM keeps a leading U+FEFF, so a string reads back exactly as it was written.
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw)
    } catch {
      this.fail(field, 'is not valid UTF-8')
    }
  }

  /** Position in the input, for slicing signed regions. */
  get position(): number {
    return this.d.pos
  }

  end(): void {
    if (this.remaining !== 0) this.fail('end', `has ${this.remaining} unexpected trailing bytes`)
  }
}
