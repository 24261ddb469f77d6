// mindsync devices: full clients (createSyncClient) with in-memory stores, in one vault.
// The first device opened creates the vault; the others are paired by it (offer, accept).
import { createMemoryStore, createSyncClient, createWebSocketTransport } from '@mindsync/client'
import { EnvelopeKind, decodeEnvelope } from '@mindsync/protocol'

const DOC = 'journal'

function once(client, event, match) {
  return new Promise((resolve, reject) => {
    const off = client.on(event, (e) => {
      if (event === 'status' && (e.status === 'refused' || e.status === 'revoked')) {
        off()
        reject(e.error ?? new Error(`device ${e.status}`))
      } else if (match(e)) {
        off()
        resolve(e)
      }
    })
  })
}

/**
 * `joinVia(code)`, when given, gets a pairing offer accepted by the vault's first device in
 * another thread; without it the first device opened here creates the vault.
 */
export function createSystem({ url, joinVia }) {
  let admin
  return {
    name: 'mindsync',
    /**
     * Asks the writer for a snapshot if the client can write one on demand (whichever of these
     * names exists); returns the name used, or undefined. Snapshots the client writes by itself
     * (past a threshold) show up in envelopeKinds() either way.
     */
    async snapshot(device) {
      const { client, docSync } = device
      const candidates = [
        [docSync, 'snapshot', []],
        [docSync, 'writeSnapshot', []],
        [client, 'snapshot', [DOC]],
        [client, 'writeSnapshot', [DOC]],
        [client, 'compact', [DOC]],
      ]
      for (const [target, method, args] of candidates) {
        if (typeof target?.[method] !== 'function') continue
        await target[method](...args)
        await device.settled()
        return `${target === client ? 'client' : 'docSync'}.${method}`
      }
      return undefined
    },
    /** What the device holds for the doc, by envelope kind. */
    async envelopeKinds(device) {
      const kinds = { envelopes: 0, snapshots: 0 }
      for (const item of await device.store.listEnvelopes(device.docSync.key)) {
        kinds.envelopes++
        if (decodeEnvelope(item.envelope).header.kind === EnvelopeKind.snapshot) kinds.snapshots++
      }
      return kinds
    },
    /**
     * After a fan-out: every device's outbox is empty (each envelope acknowledged, so committed),
     * and the relay's SQLite file holds exactly the envelopes the devices sealed.
     */
    async verifyStored(devices, server) {
      let sealed = 0
      for (const n of await Promise.all(devices.map((d) => this.sealedBy(d)))) sealed += n
      return this.compareStored(sealed, this.docOf(devices[0]), server)
    },
    /** How many envelopes the device sealed, once all of them are acknowledged. */
    async sealedBy(d) {
      await d.settled()
      let sealed = 0
      for (const e of await d.store.listEnvelopes(d.docSync.key)) if (e.author === d.client.deviceId) sealed++
      return sealed
    },
    /** The vault and doc a device is bound to, as the relay names them. */
    docOf: (device) => ({ vaultId: device.client.vaultId, docId: device.docSync.key }),
    /** Checks that the relay's SQLite file holds exactly `sealed` envelopes of the doc (`docOf`). */
    async compareStored(sealed, doc, server) {
      const stored = await server('call', { method: 'headSeq', params: doc })
      if (stored !== sealed) throw new Error(`mindsync: the relay's SQLite file holds ${stored} envelopes, the devices sealed ${sealed}`)
      return { envelopesSealed: sealed, envelopesStored: stored }
    },
    /** `store`: the device's LocalStore (a memory store when not given). */
    device(ydoc, { WebSocket, options = {}, store = createMemoryStore() }) {
      let client
      let docSync
      return {
        store,
        ydoc,
        get client() {
          return client
        },
        get docSync() {
          return docSync
        },
        /** Keys, vault membership (pairing through the admin): everything before a new device's first sync. */
        async prepare() {
          client = await createSyncClient({ store, transport: createWebSocketTransport({ WebSocket }), url, name: 'bench', ...(process.env.BENCH_MINDSYNC_BATCH_MS ? { batchMs: Number(process.env.BENCH_MINDSYNC_BATCH_MS) } : {}), ...options })
          if (admin) await admin.acceptPairing(await client.createPairingOffer())
          else if (joinVia) await joinVia(await client.createPairingOffer())
          else {
            await client.createVault()
            admin = client
          }
        },
        /** Accepts a pairing offer made by a device in another thread (the threaded layout, fanoutThreads.mjs). */
        async admit(code) {
          await client.acceptPairing(code)
        },
        /** Connects, binds the doc and resolves once the device has everything the relay holds. */
        async connect() {
          const online = once(client, 'status', (e) => e.status === 'online')
          client.connect()
          await online
          const synced = once(client, 'synced', (e) => e.doc === DOC)
          docSync = await client.bind(DOC, ydoc)
          await synced
        },
        /** Resolves when every local change has been sealed and acknowledged by the relay. */
        async settled() {
          await client.flush()
          while (docSync.outboxSize > 0) await new Promise((r) => setTimeout(r, 5))
        },
        async close() {
          await client.close()
        },
      }
    },
  }
}
