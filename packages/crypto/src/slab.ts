/**
 * Fresh zeroed bytes for small results, as views of a slab. A typed array
 * of more than 64 bytes lives outside V8's heap: making one costs the
 * allocator, freeing it costs the GC's sweeping and accounting, and on a
 * virtual machine fresh memory often costs a page fault as well. On the
 * bench machine a loop making 128-byte arrays spent 4.7 µs of CPU on each,
 * against 0.04 µs for a view of a slab; a device opens one body per
 * envelope it receives and makes several arrays per envelope it seals.
 *
 * Every view is handed out once, so it starts zeroed like `new
 * Uint8Array(n)`. The slabs are this module's own: no Buffer of other code
 * shares them, but a view's `.buffer` reaches the other results cut from
 * its slab (this process's own data). A view keeps its whole slab alive,
 * as a Buffer keeps Node's shared pool alive; bytes meant to be kept for
 * long should be copied (the stores copy what they keep).
 */
const SLAB_BYTES = 16 * 1024
/** Larger requests get arrays of their own, so a few of them do not use slabs up. */
const MAX_FROM_SLAB = 1024

/**
 * An allocator with slabs of its own. Bytes that must not share memory with
 * other results (opened envelope bodies, which an app's Yjs values can be
 * views of) get one of their own.
 */
export function createSlab(): (length: number) => Uint8Array<ArrayBuffer> {
  let slab: Uint8Array<ArrayBuffer> = new Uint8Array(0)
  let used = 0
  return (length) => {
    if (length > MAX_FROM_SLAB) return new Uint8Array(length)
    if (used + length > slab.length) {
      slab = new Uint8Array(SLAB_BYTES)
      used = 0
    }
    const out = slab.subarray(used, used + length)
    // Views start at multiples of 8, as the allocator's own arrays do.
    used += (length + 7) & ~7
    return out
  }
}

/**
 * A zeroed Uint8Array of `length` bytes, usually a view of a shared slab
 * (see above): for public bytes (envelopes, ciphertexts) and for secrets
 * only while they are used and then wiped. Secrets kept for long get
 * arrays of their own.
 */
export const allocBytes: (length: number) => Uint8Array<ArrayBuffer> = createSlab()
