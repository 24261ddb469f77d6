import { Scope } from '@mindsync/protocol'
import { describe, expect, it } from 'vitest'
import { createRelayCore } from './core.js'
import { createMemoryRelayStorage } from './memoryStorage.js'
import { appendOps, authenticateWithCore, connectToCore, createTestDevice, registerVault, signAuth } from './testing/index.js'

function setup(options: { registration?: 'open' | 'closed' } = {}) {
  let t = 1_700_000_000_000
  const clock = { advance: (ms: number) => (t += ms) }
  const core = createRelayCore({ storage: createMemoryRelayStorage(), now: () => t, ...options })
  return { core, clock }
}

describe('authentication', () => {
  it('accepts a member and binds the session to its vault', async () => {
    const { core } = setup()
    const { vault, owner } = await registerVault(core)
    const result = await authenticateWithCore(core, owner, vault.vaultId)
    expect(result.ok).toBe(true)
    if (result.ok) {
      expect(result.auth.registration).toBe(false)
      expect([...result.auth.vaultId]).toEqual([...vault.vaultId])
      expect([...result.auth.deviceId]).toEqual([...owner.deviceId])
    }
  })

  it('refuses a bad signature, a reused challenge and an expired one with 401', async () => {
    const { core, clock } = setup()
    const { vault, owner } = await registerVault(core)
    const other = createTestDevice()

    const a = await core.issueChallenge()
    const forged = await core.authenticate({ signPub: owner.signPub, vaultId: vault.vaultId, challenge: a.challenge, signature: signAuth(other, a.relayId, vault.vaultId, a.challenge) })
    expect(forged).toMatchObject({ ok: false, status: 401, code: 'E_UNAUTHORIZED' })

    const good = { signPub: owner.signPub, vaultId: vault.vaultId, challenge: a.challenge, signature: signAuth(owner, a.relayId, vault.vaultId, a.challenge) }
    expect((await core.authenticate(good)).ok).toBe(true)
    const reused = await core.authenticate(good)
    expect(reused).toMatchObject({ ok: false, status: 401, code: 'E_UNAUTHORIZED' })
    if (!reused.ok) expect(reused.message).toMatch(/already used/)

    const b = await core.issueChallenge()
    clock.advance(61_000)
    const expired = await core.authenticate({ signPub: owner.signPub, vaultId: vault.vaultId, challenge: b.challenge, signature: signAuth(owner, b.relayId, vault.vaultId, b.challenge) })
    expect(expired).toMatchObject({ ok: false, status: 401, code: 'E_UNAUTHORIZED' })
    if (!expired.ok) expect(expired.message).toMatch(/expired/)
  })

  it('refuses a signature made for another vault or another relay', async () => {
    const { core } = setup()
    const { vault, owner } = await registerVault(core)
    const { relayId, challenge } = await core.issueChallenge()
    const otherVault = new Uint8Array(16).fill(3)
    const wrongVault = await core.authenticate({ signPub: owner.signPub, vaultId: vault.vaultId, challenge, signature: signAuth(owner, relayId, otherVault, challenge) })
    expect(wrongVault).toMatchObject({ ok: false, status: 401 })
    const c2 = await core.issueChallenge()
    const wrongRelay = await core.authenticate({ signPub: owner.signPub, vaultId: vault.vaultId, challenge: c2.challenge, signature: signAuth(owner, new Uint8Array(16), vault.vaultId, c2.challenge) })
    expect(wrongRelay).toMatchObject({ ok: false, status: 401 })
  })

  it('refuses malformed credentials with 400', async () => {
    const { core } = setup()
    const { challenge } = await core.issueChallenge()
    expect(await core.authenticate({ signPub: new Uint8Array(31), vaultId: undefined, challenge, signature: new Uint8Array(64) })).toMatchObject({ status: 400 })
    expect(await core.authenticate({ signPub: new Uint8Array(32), vaultId: new Uint8Array(3), challenge, signature: new Uint8Array(64) })).toMatchObject({ status: 400 })
  })

  it('refuses a device that is not a member (403 E_NOT_MEMBER) and a removed one (403 E_REVOKED)', async () => {
    const { core } = setup()
    const { vault, owner, conn } = await registerVault(core)
    const stranger = createTestDevice()
    expect(await authenticateWithCore(core, stranger, vault.vaultId)).toMatchObject({ ok: false, status: 403, code: 'E_NOT_MEMBER' })
    const phone = createTestDevice()
    await appendOps(conn, vault.addDevice(owner, phone), vault.removeDevice(owner, phone))
    expect(await authenticateWithCore(core, phone, vault.vaultId)).toMatchObject({ ok: false, status: 403, code: 'E_REVOKED' })
    expect(await authenticateWithCore(core, phone)).toMatchObject({ ok: false, status: 403, code: 'E_REVOKED' })
  })

  it('finds the vault of a device that gives none (a newly paired device)', async () => {
    const { core } = setup()
    const { vault, owner, conn } = await registerVault(core)
    const watch = createTestDevice()
    const before = await authenticateWithCore(core, watch)
    expect(before).toMatchObject({ ok: false, status: 403, code: 'E_NOT_MEMBER', message: 'this device has not been admitted to any vault yet' })
    await appendOps(conn, vault.addDevice(owner, watch, Scope.read))
    const after = await connectToCore(core, watch)
    const welcome = await after.waitFor('welcome')
    expect([...welcome.vaultId]).toEqual([...vault.vaultId])
    expect([...welcome.deviceId]).toEqual([...watch.deviceId])
  })

  it('lets any device start a registration session when registration is open, none when closed', async () => {
    const open = setup()
    const device = createTestDevice()
    const vaultId = new Uint8Array(16).fill(9)
    expect(await authenticateWithCore(open.core, device, vaultId)).toMatchObject({ ok: true, auth: { registration: true } })
    const closed = setup({ registration: 'closed' })
    expect(await authenticateWithCore(closed.core, device, vaultId)).toMatchObject({ ok: false, status: 403, code: 'E_FORBIDDEN' })
  })
})
