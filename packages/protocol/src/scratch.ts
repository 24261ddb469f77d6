/**
 * A typed array of more than 64 bytes lives outside V8's heap: allocating
 * one costs about a microsecond and counts towards the external memory that
 * makes V8 collect garbage sooner. Node's Buffer.allocUnsafe hands out small
 * ones from a shared 8 KiB slab instead. For bytes that are written in full
 * before anyone reads them (unzeroed memory) and do not live long (frames).
 */
const pooled = (globalThis as { Buffer?: { allocUnsafe(size: number): Uint8Array<ArrayBuffer> } }).Buffer

export const allocScratch = (size: number): Uint8Array<ArrayBuffer> => (pooled ? pooled.allocUnsafe(size) : new Uint8Array(size))
