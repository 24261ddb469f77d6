import { CloseCode, OpType, Scope, signOp } from '@mindsync/protocol'
import { describe, expect, it } from 'vitest'
import { createRelayCore } from './core.js'
import { createMemoryRelayStorage } from './memoryStorage.js'
import { appendOps, connectToCore, createTestDevice, createTestVault, registerVault, testDocId } from './testing/index.js'

const newCore = () => createRelayCore({ storage: createMemoryRelayStorage() })

/** A vault whose owner added a phone, with the phone connected. */
async function vaultWithConnectedPhone() {
  const core = newCore()
  const { vault, owner, conn } = await registerVault(core)
  const phone = createTestDevice()
  await appendOps(conn, vault.addDevice(owner, phone))
  const p = await connectToCore(core, phone, vault.vaultId)
  await p.waitFor('welcome')
  return { vault, owner, conn, phone, p }
}

describe('membership ops', () => {
  it('a registration session gets welcome at once, then creates the vault with its genesis op', async () => {
    const core = newCore()
    const owner = createTestDevice()
    const vault = createTestVault(owner)
    const conn = await connectToCore(core, owner, vault.vaultId)
    const welcome = await conn.waitFor('welcome')
    expect([...welcome.vaultId]).toEqual([...vault.vaultId])
    conn.send({ type: 'hello', opsFrom: 0 })
    expect(await conn.waitFor('ops')).toMatchObject({ from: 0, ops: [] })
    conn.send({ type: 'appendOp', op: vault.genesis.bytes })
    expect(await conn.waitFor('opResult')).toMatchObject({ index: 0, code: '', message: '' })
    const broadcast = await conn.waitFor('ops', (m) => m.ops.length === 1)
    expect(broadcast.from).toBe(0)
    expect([...(broadcast.ops[0] as Uint8Array)]).toEqual([...vault.genesis.bytes])
  })

  it('a registration session may append nothing but the genesis of its own key', async () => {
    const core = newCore()
    const owner = createTestDevice()
    const vault = createTestVault(owner)
    const phone = createTestDevice()
    const add = vault.addDevice(owner, phone)

    const conn = await connectToCore(core, owner, vault.vaultId)
    conn.send({ type: 'appendOp', op: add.bytes })
    expect(await conn.waitFor('opResult')).toMatchObject({ index: 1, code: 'E_FORBIDDEN' })

    const intruder = await connectToCore(core, phone, vault.vaultId)
    intruder.send({ type: 'appendOp', op: vault.genesis.bytes })
    expect(await intruder.waitFor('opResult')).toMatchObject({ index: 0, code: 'E_FORBIDDEN' })

    // Nothing but hello and appendOp works before the vault exists.
    conn.send({ type: 'subscribe', docId: testDocId(), cursor: 0 })
    expect(await conn.waitClosed()).toMatchObject({ code: CloseCode.forbidden })
  })

  it('of two registrations of one vault id, the second gets no access', async () => {
    const core = newCore()
    const a = createTestDevice()
    const b = createTestDevice()
    const vaultA = createTestVault(a)
    const vaultB = createTestVault(b, vaultA.vaultId)
    const ca = await connectToCore(core, a, vaultA.vaultId)
    const cb = await connectToCore(core, b, vaultA.vaultId)
    await appendOps(ca, vaultA.genesis)
    cb.send({ type: 'appendOp', op: vaultB.genesis.bytes })
    expect(await cb.waitClosed()).toMatchObject({ code: CloseCode.forbidden, reason: 'this device is not a member of the vault' })
  })

  it('an op that loses the compare-and-set to another relay instance gets E_CONFLICT', async () => {
    const storage = createMemoryRelayStorage()
    const one = createRelayCore({ storage })
    const two = createRelayCore({ storage })
    const { vault, owner, conn } = await registerVault(one)
    const onTwo = await connectToCore(two, owner, vault.vaultId)
    await onTwo.waitFor('welcome')
    // Both instances now hold the log at index 0; `one` appends op 1 first.
    const atGenesis = vault.state
    await appendOps(conn, vault.rotate(owner))
    const rival = signOp(
      {
        type: OpType.rotate,
        vaultId: vault.vaultId,
        index: 1,
        prevHash: atGenesis.hash,
        author: owner.deviceId,
        time: Date.now(),
        epoch: 1,
        signPub: new Uint8Array(0),
        dhPub: new Uint8Array(0),
        scopes: 0,
        target: new Uint8Array(0),
        lockboxes: [{ deviceId: owner.deviceId, box: new Uint8Array(80) }],
        meta: new Uint8Array(0),
      },
      owner.signer,
    )
    onTwo.send({ type: 'appendOp', op: rival.bytes })
    expect(await onTwo.waitFor('opResult')).toMatchObject({ index: 1, code: 'E_CONFLICT', message: expect.stringMatching(/lost a race/) })
  })

  it('hello returns the ops from min(opsFrom, index of the last op)', async () => {
    const core = newCore()
    const { vault, owner, conn } = await registerVault(core)
    await appendOps(conn, vault.addDevice(owner, createTestDevice()), vault.rotate(owner))
    conn.send({ type: 'hello', opsFrom: 1 })
    const ops = await conn.waitFor('ops', (m) => m.from === 1 && m.ops.length === 2)
    expect(ops.ops.map((o) => [...o])).toEqual([[...(vault.ops[1]?.bytes ?? [])], [...(vault.ops[2]?.bytes ?? [])]])
    // Always with the relay's last op, so a device can tell a shorter log from a forked one.
    const before = conn.received.length
    conn.send({ type: 'hello', opsFrom: 99 })
    const last = await conn.waitFor('ops', (m) => conn.received.indexOf(m) >= before)
    expect(last.from).toBe(2)
    expect(last.ops.map((o) => [...o])).toEqual([[...(vault.ops[2]?.bytes ?? [])]])
  })

  it('an appended op reaches every session of the vault; a stale or unauthorized one is refused with its code', async () => {
    const core = newCore()
    const { vault, owner, conn } = await registerVault(core)
    const watch = createTestDevice()
    await appendOps(conn, vault.addDevice(owner, watch, Scope.read))
    const w = await connectToCore(core, watch, vault.vaultId)
    const rotate = vault.rotate(owner)
    await appendOps(conn, rotate)
    expect(await w.waitFor('ops', (m) => m.from === 2)).toBeTruthy()

    conn.send({ type: 'appendOp', op: rotate.bytes })
    expect(await conn.waitFor('opResult', (m) => m.code !== '')).toMatchObject({ index: 2, code: 'E_CONFLICT' })

    // A read-only watch cannot add devices: the protocol's rule, reported with its code.
    const other = createTestDevice()
    const state = vault.state
    const byWatch = signOp(
      {
        type: OpType.addDevice,
        vaultId: vault.vaultId,
        index: state.index + 1,
        prevHash: state.hash,
        author: watch.deviceId,
        time: Date.now(),
        epoch: state.epoch,
        signPub: other.signPub,
        dhPub: other.dh.publicKey,
        scopes: Scope.read,
        target: new Uint8Array(0),
        lockboxes: [{ deviceId: other.deviceId, box: new Uint8Array(80) }],
        meta: new Uint8Array(0),
      },
      watch.signer,
    )
    w.send({ type: 'appendOp', op: byWatch.bytes })
    expect(await w.waitFor('opResult')).toMatchObject({ index: 3, code: 'E_SCOPE' })
  })

  it('removing a device closes its sessions at once with revoked, after it saw the op', async () => {
    const { vault, owner, conn, phone, p } = await vaultWithConnectedPhone()
    const remove = vault.removeDevice(owner, phone)
    await appendOps(conn, remove)
    expect(await p.waitClosed()).toMatchObject({ code: CloseCode.revoked })
    expect(p.received.some((m) => m.type === 'ops' && m.from === remove.index)).toBe(true)
    expect(conn.closedWith()).toBeUndefined()
  })

  it('a removal sent with the device heads the remover saw is appended only while they are still the heads', async () => {
    const { vault, owner, conn, phone, p } = await vaultWithConnectedPhone()
    const docId = testDocId()
    for (const text of ['one', 'two']) {
      const env = vault.envelope(phone, docId, text)
      p.send({ type: 'push', envelope: env.bytes })
      await p.waitFor('ack', (m) => m.seq === env.header.seq)
    }
    // The remover saw only the first envelope: refused, nothing appended.
    const remove = vault.removeDevice(owner, phone)
    conn.send({ type: 'removeOp', op: remove.bytes, heads: [{ docId, seq: 1 }] })
    const refused = await conn.waitFor('opResult', (m) => m.index === remove.index)
    expect(refused.code).toBe('E_CONFLICT')
    expect(refused.message).toMatch(/has 2 envelopes/)
    expect(p.closedWith()).toBeUndefined()
    // Caught up: appended, and the device is closed.
    conn.send({ type: 'removeOp', op: remove.bytes, heads: [{ docId, seq: 2 }] })
    expect(await conn.waitFor('opResult', (m) => m.index === remove.index && m.code === '')).toBeDefined()
    expect(await p.waitClosed()).toMatchObject({ code: CloseCode.revoked })
  })

  it('removeOp carrying an op that is not a removal closes the connection', async () => {
    const core = newCore()
    const { vault, owner, conn } = await registerVault(core)
    conn.send({ type: 'removeOp', op: vault.addDevice(owner, createTestDevice()).bytes, heads: [] })
    expect((await conn.waitClosed()).reason).toMatch(/must remove a device/)
  })

  it('an undecodable op closes the connection with badFrame naming the field', async () => {
    const core = newCore()
    const { conn, vault } = await registerVault(core)
    const bad = vault.genesis.bytes.slice(0, 20)
    conn.send({ type: 'appendOp', op: bad })
    const closed = await conn.waitClosed()
    expect(closed.code).toBe(CloseCode.badFrame)
    expect(closed.reason).toMatch(/appendOp: membership op: prevHash/)
  })
})
