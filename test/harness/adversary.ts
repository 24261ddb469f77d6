import { toHex } from '@mindsync/crypto'
import type { Connection, ConnectionHandlers, Transport } from '@mindsync/client'
import { EnvelopeKind, MindsyncError, decodeEnvelope, decodeFrame, deviceIdOf, encodeFrame } from '@mindsync/protocol'
import type { ErrorCode, Message, RelayMessage, StoredEnvelope } from '@mindsync/protocol'
import { createRelayCore, silentLog } from '@mindsync/relay'
import type { RelayCore, SessionHandlers } from '@mindsync/relay'
import { createCopyableStorage, fenceStorage } from './copyableStorage.js'
import type { CopyableStorage } from './copyableStorage.js'
import { Rng } from './rng.js'

/**
 * What an unreliable (not malicious) network does to frames, per frame and
 * direction. A socket cannot lose one frame and carry on, so a lost frame
 * also breaks the connection; the device reconnects and resends.
 */
export interface NetworkFaults {
  /** Probability that a frame is lost, breaking its connection. */
  drop: number
  /** Probability that a frame is delivered twice. */
  duplicate: number
  /** Which directions duplicate frames (when `duplicate` > 0). */
  duplicateDirections: 'down' | 'up' | 'both'
  /** Each frame waits 0..maxDelay event-loop turns. */
  maxDelay: number
  /** Frames may overtake each other within the delay window; otherwise first in, first out. */
  reorder: boolean
  /** Which directions reorder applies to (when `reorder`). */
  reorderDirections: 'down' | 'up' | 'both'
  /** Probability that the connection breaks right after a frame is delivered. */
  disconnect: number
  /** relay→device `envelopes` messages: items in a random order. */
  shuffleItems: boolean
  /** relay→device `envelopes` messages: probability that an item is repeated. */
  duplicateItems: number
}

export const CLEAN_NETWORK: NetworkFaults = {
  drop: 0,
  duplicate: 0,
  duplicateDirections: 'both',
  maxDelay: 0,
  reorder: false,
  reorderDirections: 'both',
  disconnect: 0,
  shuffleItems: false,
  duplicateItems: 0,
}

/** Keep envelopes of `author` with from ≤ seq ≤ to away from `victims` (hex device ids), in catch-up, fan-out and gap repair. */
export interface WithholdRule {
  victims: ReadonlySet<string>
  author: string
  from: number
  to: number
}

/** What a malicious relay does on top of (or instead of) honest service. */
export interface Malice {
  withhold: WithholdRule[]
  /** Checkpoint envelopes (kind 3) reach nobody while set. */
  hideCheckpoints: boolean
  /** Probability that an envelope item gets one byte flipped. */
  flip: number
  /** Probability that an `envelopes` message gets injected items from `injector`. */
  inject: number
  injector?: (ctx: { device: string; docId: Uint8Array; rng: Rng }) => Uint8Array[]
  /** Probability, per relay→device frame, that an earlier frame to the same device is sent again. */
  replay: number
  /** Probability, per device→relay frame, that an earlier frame of the same device is sent to the relay again. */
  replayUp: number
}

export const NO_MALICE: Malice = { withhold: [], hideCheckpoints: false, flip: 0, inject: 0, replay: 0, replayUp: 0 }

/** One relay process: a core on a storage. Several exist when the adversary rolls a device back or forks the relay. */
export interface RelayNode {
  name: string
  storage: CopyableStorage
  core: RelayCore
  /** How many times this node was restarted. */
  restarts: number
}

export interface AdversaryStats {
  connections: number
  framesDown: number
  framesUp: number
  dropped: number
  cut: number
  duplicated: number
  flipped: number
  injected: number
  replayed: number
  hiddenCheckpoints: number
  /** `${victim}:${author}:${seq}` of every envelope item kept from a victim. */
  withheld: Set<string>
}

const turns = (n: number): Promise<void> =>
  new Promise((resolve) => {
    const hop = (left: number): void => void setImmediate(() => (left <= 0 ? resolve() : hop(left - 1)))
    hop(n)
  })

interface Header {
  kind: number
  author: string
  seq: number
}

function headerOf(envelope: Uint8Array): Header | undefined {
  try {
    const h = decodeEnvelope(envelope).header
    return { kind: h.kind, author: toHex(h.deviceId), seq: h.seq }
  } catch {
    return undefined
  }
}

const HISTORY = 64

/** A one-line summary of a frame, for traces. */
export function describeFrame(frame: Uint8Array): string {
  try {
    return decodeFrame(frame)
      .map((m) => {
        switch (m.type) {
          case 'envelopes':
            return `envelopes[${m.items.map((it) => { const h = headerOf(it.envelope); return `${it.serverSeq}:${h ? `${h.author.slice(0, 4)}#${h.seq}${h.kind === EnvelopeKind.checkpoint ? 'c' : ''}` : '?'}` }).join(' ')}]`
          case 'caughtUp':
            return `caughtUp(${m.head})`
          case 'ack':
            return `ack(${m.seq}->${m.serverSeq})`
          case 'subscribe':
            return `subscribe(${m.cursor})`
          case 'push': {
            const h = headerOf(m.envelope)
            return `push(${h ? `${h.seq}${h.kind === EnvelopeKind.checkpoint ? 'c' : ''}` : '?'})`
          }
          case 'ops':
            return `ops(${m.from}+${m.ops.length})`
          case 'hello':
            return `hello(${m.opsFrom})`
          case 'reject':
            return `reject(${m.code} ${m.seq})`
          default:
            return m.type
        }
      })
      .join(', ')
  } catch (e) {
    return `undecodable: ${(e as Error).message}`
  }
}

/**
 * A seeded adversary between devices and relay cores: a Transport for the
 * devices, and the relays behind it. Every choice comes from an Rng derived
 * from `seed` and the connection's number, so a run replays from its seed
 * (as far as the event loop interleaves the same way, which it does for
 * in-process cores).
 *
 * Network faults (`faults`) and relay malice (`malice`) can be changed at any
 * time; `snapshot`, `route`, `restart` and `cut` act at once.
 */
export class Adversary {
  readonly transport: Transport
  faults: NetworkFaults = { ...CLEAN_NETWORK }
  malice: Malice = { ...NO_MALICE, withhold: [] }
  readonly stats: AdversaryStats = {
    connections: 0,
    framesDown: 0,
    framesUp: 0,
    dropped: 0,
    cut: 0,
    duplicated: 0,
    flipped: 0,
    injected: 0,
    replayed: 0,
    hiddenCheckpoints: 0,
    withheld: new Set(),
  }
  /** What happened (frames too when MINDSYNC_PROPERTY_TRACE=frames), printed by the properties when a case fails. */
  readonly trace: string[] = []
  readonly traceFrames = process.env.MINDSYNC_PROPERTY_TRACE === 'frames'
  private readonly nodes = new Map<string, RelayNode & { kill(): void }>()
  private readonly routes = new Map<string, string>()
  private readonly conns = new Set<AdversaryConnection>()
  private readonly downHistory = new Map<string, Uint8Array[]>()
  private readonly upHistory = new Map<string, Uint8Array[]>()
  /** Devices the network cannot reach (their connects fail). */
  readonly unreachable = new Set<string>()
  private connectionCount = 0
  private withholdingFrozen = false

  constructor(readonly seed: number) {
    this.startNode('main', createCopyableStorage())
    this.transport = { connect: (request, handlers) => this.connect(request.signPub, request.vaultId, request.signAuth, handlers) }
  }

  node(name = 'main'): RelayNode {
    const n = this.nodes.get(name)
    if (!n) throw new Error(`no relay node ${name}`)
    return n
  }

  nodeNames(): string[] {
    return [...this.nodes.keys()]
  }

  /** The node a device is routed to (hex device id). */
  nodeOf(device: string): RelayNode {
    return this.node(this.routes.get(device) ?? 'main')
  }

  log(line: string): void {
    this.trace.push(line)
    if (this.trace.length > 20_000) this.trace.splice(0, 10_000)
  }

  private startNode(name: string, storage: CopyableStorage): void {
    const fence = fenceStorage(storage)
    const core = createRelayCore({ storage: fence.storage, log: silentLog })
    const old = this.nodes.get(name)
    this.nodes.set(name, { name, storage, core, restarts: old ? old.restarts + 1 : 0, kill: fence.kill })
  }

  /** Deep-copies node `from`'s storage into a new node `name` (same relay id): an old copy to roll back to, or the other side of a fork. */
  async snapshot(name: string, from = 'main'): Promise<RelayNode> {
    if (this.nodes.has(name)) throw new Error(`relay node ${name} exists`)
    const copy = await this.node(from).storage.copy()
    this.startNode(name, copy)
    this.log(`snapshot ${from} -> ${name}`)
    return this.node(name)
  }

  /** From now on these devices reach node `name`; their open connections break. */
  route(devices: readonly string[], name: string): void {
    this.node(name)
    for (const d of devices) {
      this.routes.set(d, name)
      this.cut(d, `rerouted to ${name}`)
    }
    this.log(`route ${devices.map((d) => d.slice(0, 6)).join(',')} -> ${name}`)
  }

  /** The relay process of node `name` dies and a new one starts on the same storage: every connection breaks, nothing committed is lost. */
  restart(name = 'main'): void {
    const n = this.nodes.get(name)
    if (!n) throw new Error(`no relay node ${name}`)
    n.kill()
    for (const c of [...this.conns]) if (c.node === n) c.cut('relay restarted')
    this.startNode(name, n.storage)
    this.log(`restart ${name}`)
  }

  /** Breaks the connections of one device (hex id), or of every device. */
  cut(device?: string, reason = 'network: connection broke'): void {
    for (const c of [...this.conns]) if (device === undefined || c.device === device) c.cut(reason)
  }

  /**
   * From now on the relay keeps hiding exactly what it has hidden so far
   * (each victim still misses the same envelopes) and hides nothing new.
   */
  freezeWithholding(): void {
    this.withholdingFrozen = true
    this.log(`withholding frozen: ${[...this.stats.withheld].map((k) => k.split(':').map((x) => x.slice(0, 6)).join(':')).join(' ')}`)
  }

  /** Stops every fault and every form of malice (withholding included). */
  heal(): void {
    this.faults = { ...CLEAN_NETWORK }
    this.malice = { ...NO_MALICE, withhold: [] }
    this.withholdingFrozen = false
    this.unreachable.clear()
  }

  private async connect(
    signPub: Uint8Array,
    vaultId: Uint8Array | undefined,
    signAuth: (relayId: Uint8Array, challenge: Uint8Array) => Uint8Array,
    handlers: ConnectionHandlers,
  ): Promise<Connection> {
    const device = toHex(deviceIdOf(signPub))
    if (this.unreachable.has(device)) throw new MindsyncError('E_UNREACHABLE', 'network: relay unreachable')
    const node = this.nodeOf(device) as RelayNode & { kill(): void }
    const { relayId, challenge } = await node.core.issueChallenge()
    const result = await node.core.authenticate({ signPub, vaultId, challenge, signature: signAuth(relayId, challenge) })
    if (!result.ok) throw new MindsyncError(result.code as ErrorCode, `relay refused the connection (${result.status}): ${result.message}`)
    // The node restarted while this device authenticated: the socket went with it.
    if (this.nodes.get(node.name) !== node || this.nodeOf(device) !== node) throw new MindsyncError('E_UNREACHABLE', 'network: connection broke during the handshake')
    const index = this.connectionCount++
    this.stats.connections++
    const conn = new AdversaryConnection(this, node, device, handlers, index)
    this.conns.add(conn)
    conn.session = node.core.openSession(result.auth, {
      send: (frame) => conn.fromRelay(frame),
      close: (code, reason) => conn.relayClosed(code, reason),
      bufferedAmount: () => 0,
    })
    return { send: (frame) => conn.fromDevice(frame), close: (code = 1000, reason = '') => conn.deviceClosed(code, reason) }
  }

  /** @internal */
  forget(c: AdversaryConnection): void {
    this.conns.delete(c)
  }

  /** @internal remembers a genuine frame for replays */
  remember(direction: 'down' | 'up', device: string, frame: Uint8Array): void {
    const map = direction === 'down' ? this.downHistory : this.upHistory
    const list = map.get(device) ?? []
    list.push(frame)
    if (list.length > HISTORY) list.shift()
    map.set(device, list)
  }

  /** @internal an earlier frame of this device, if any */
  earlier(direction: 'down' | 'up', device: string, rng: Rng): Uint8Array | undefined {
    const list = (direction === 'down' ? this.downHistory : this.upHistory).get(device)
    return list && list.length > 1 ? list[rng.int(list.length - 1)] : undefined
  }

  /** @internal what the malicious relay and the network make of a relay→device frame; undefined when nothing is left */
  rewriteDown(device: string, frame: Uint8Array, rng: Rng): Uint8Array | undefined {
    const m = this.malice
    const f = this.faults
    const touchesItems = m.withhold.length > 0 || this.withholdingFrozen || m.hideCheckpoints || m.flip > 0 || (m.inject > 0 && m.injector) || f.shuffleItems || f.duplicateItems > 0
    if (!touchesItems) return frame
    let messages: Message[]
    try {
      messages = decodeFrame(frame)
    } catch {
      return frame
    }
    const out: RelayMessage[] = []
    for (const msg of messages as RelayMessage[]) {
      if (msg.type !== 'envelopes') {
        out.push(msg)
        continue
      }
      let items: StoredEnvelope[] = []
      for (const it of msg.items) {
        const h = headerOf(it.envelope)
        if (h && m.hideCheckpoints && h.kind === EnvelopeKind.checkpoint) {
          this.stats.hiddenCheckpoints++
          continue
        }
        const key = h && `${device}:${h.author}:${h.seq}`
        const rule =
          h && (this.withholdingFrozen ? this.stats.withheld.has(key!) : m.withhold.some((r) => r.victims.has(device) && r.author === h.author && h.seq >= r.from && h.seq <= r.to))
        if (h && key && rule) {
          if (!this.stats.withheld.has(key)) this.log(`withhold ${h.author.slice(0, 6)}#${h.seq} from ${device.slice(0, 6)}`)
          this.stats.withheld.add(key)
          continue
        }
        if (rng.chance(m.flip)) {
          const bytes = it.envelope.slice()
          const at = rng.int(bytes.length)
          bytes[at] = (bytes[at] as number) ^ (1 + rng.int(255))
          this.stats.flipped++
          items.push({ serverSeq: it.serverSeq, envelope: bytes })
          continue
        }
        items.push(it)
        if (rng.chance(f.duplicateItems)) items.push(it)
      }
      if (f.shuffleItems) items = rng.shuffle(items)
      if (m.injector && items.length > 0 && rng.chance(m.inject)) {
        for (const envelope of m.injector({ device, docId: msg.docId, rng })) {
          // Borrow a neighbour's serverSeq, so the injection does not move the device's cursor.
          const at = rng.int(items.length + 1)
          const neighbour = items[Math.min(at, items.length - 1)] as StoredEnvelope
          items.splice(at, 0, { serverSeq: neighbour.serverSeq, envelope })
          this.stats.injected++
        }
      }
      if (items.length > 0) out.push({ ...msg, items })
    }
    return out.length > 0 ? encodeFrame(out) : undefined
  }
}

/** One device connection through the adversary. */
class AdversaryConnection {
  session!: SessionHandlers
  alive = true
  private readonly down: Link
  private readonly up: Link
  private readonly rng: Rng

  constructor(
    readonly adversary: Adversary,
    readonly node: RelayNode,
    readonly device: string,
    private readonly handlers: ConnectionHandlers,
    readonly index: number,
  ) {
    this.rng = new Rng(adversary.seed, index, 0)
    this.down = new Link(this, new Rng(adversary.seed, index, 1), 'down', (f) => handlers.onFrame(f))
    this.up = new Link(this, new Rng(adversary.seed, index, 2), 'up', (f) => this.session.receive(f))
  }

  fromRelay(frame: Uint8Array): void {
    if (!this.alive) return
    const a = this.adversary
    a.stats.framesDown++
    a.remember('down', this.device, frame)
    const out = a.rewriteDown(this.device, frame, this.rng)
    if (a.traceFrames) a.log(`down ${this.device.slice(0, 6)}#${this.index}: ${describeFrame(frame)}`)
    if (out) this.down.send(out)
    if (this.rng.chance(a.malice.replay)) {
      const old = a.earlier('down', this.device, this.rng)
      const again = old && a.rewriteDown(this.device, old, this.rng)
      if (again) {
        a.stats.replayed++
        this.down.send(again)
      }
    }
  }

  fromDevice(frame: Uint8Array): void {
    if (!this.alive) return
    const a = this.adversary
    a.stats.framesUp++
    a.remember('up', this.device, frame)
    if (a.traceFrames) a.log(`up ${this.device.slice(0, 6)}#${this.index}: ${describeFrame(frame)}`)
    this.up.send(frame)
    if (this.rng.chance(a.malice.replayUp)) {
      const old = a.earlier('up', this.device, this.rng)
      if (old) {
        a.stats.replayed++
        this.up.send(old)
      }
    }
  }

  /** The relay closed: the device hears it after the frames already on their way. */
  relayClosed(code: number, reason: string): void {
    if (!this.alive) return
    this.down.after(() => {
      if (!this.alive) return
      this.alive = false
      this.adversary.forget(this)
      this.handlers.onClose(code, reason)
    })
  }

  /** The device closed. */
  deviceClosed(code: number, reason: string): void {
    if (!this.alive) return
    this.alive = false
    this.adversary.forget(this)
    this.session.closed()
    setImmediate(() => this.handlers.onClose(code, reason))
  }

  /** The network broke the connection: both ends notice, frames in flight are lost. */
  cut(reason: string): void {
    if (!this.alive) return
    this.alive = false
    this.adversary.stats.cut++
    this.adversary.forget(this)
    this.adversary.log(`cut ${this.device.slice(0, 6)}: ${reason}`)
    this.session.closed()
    setImmediate(() => this.handlers.onClose(1006, reason))
  }
}

/** One direction of a connection: drop, duplicate, delay, reorder, break. */
class Link {
  private tail: Promise<void> = Promise.resolve()
  private readonly inflight = new Set<Promise<void>>()

  constructor(
    private readonly conn: AdversaryConnection,
    private readonly rng: Rng,
    private readonly direction: 'down' | 'up',
    private readonly deliver: (frame: Uint8Array) => void,
  ) {}

  send(frame: Uint8Array): void {
    const f = this.conn.adversary.faults
    const stats = this.conn.adversary.stats
    if (this.rng.chance(f.drop)) {
      stats.dropped++
      if (this.conn.adversary.traceFrames) this.conn.adversary.log(`  lost ${this.direction} ${this.conn.device.slice(0, 6)}#${this.conn.index}`)
      this.conn.cut(`network: a ${this.direction} frame was lost`)
      return
    }
    const dup = f.duplicateDirections === 'both' || f.duplicateDirections === this.direction ? f.duplicate : 0
    const copies = this.rng.chance(dup) ? 2 : 1
    if (copies === 2) stats.duplicated++
    const breakAfter = this.rng.chance(f.disconnect)
    const reorder = f.reorder && (f.reorderDirections === 'both' || f.reorderDirections === this.direction)
    let last: Promise<void> = Promise.resolve()
    for (let i = 0; i < copies; i++) {
      const delay = f.maxDelay > 0 ? this.rng.int(f.maxDelay + 1) : 0
      const go = (): void => {
        if (!this.conn.alive) return
        if (this.conn.adversary.traceFrames) this.conn.adversary.log(`  ${this.direction === 'down' ? 'device' : 'relay'} gets ${this.conn.device.slice(0, 6)}#${this.conn.index}: ${describeFrame(frame)}`)
        try {
          this.deliver(frame)
        } catch (e) {
          // Not the network's business: surface it as the socket would (an uncaught error), keep the link going.
          setImmediate(() => {
            throw e
          })
        }
      }
      last = reorder ? turns(delay).then(go) : (this.tail = this.tail.then(() => turns(delay)).then(go))
      const p = last
      this.inflight.add(p)
      void p.finally(() => this.inflight.delete(p))
    }
    if (breakAfter) void last.then(() => this.conn.cut('network: connection broke'))
  }

  /** Runs `fn` once every frame sent so far has been delivered (or lost). */
  after(fn: () => void): void {
    void Promise.all([...this.inflight, this.tail])
      .then(() => turns(0))
      .then(fn)
  }
}
