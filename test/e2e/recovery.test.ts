import { Scope, newRecoveryCode } from '@mindsync/client'
import { describe, expect, it } from 'vitest'
import { cli, deviceIdIn, notesOf, ok, openDevice, pairHomes, showJson, useRelay } from '../helpers.js'

const CODE = /^[0-9A-Z]{4}(-[0-9A-Z]{1,4})+$/

describe('recovery codes', () => {
  const { relay, home: h } = useRelay()

  it('[D3] a fresh home gets the whole journal back and can add devices; a replaced or wrong code is refused', async () => {
    await ok(h('phone'), ['init', '--relay', relay.url, '--name', 'phone'])
    await ok(h('phone'), ['sync'])
    await pairHomes(h('phone'), relay.url, [{ home: h('laptop'), name: 'laptop', scope: 'admin' }])
    await Promise.all([
      (async () => {
        await ok(h('phone'), ['log', 'session', '--minutes', '20', '--technique', 'breath', '--note', 'd3-phone-one'])
        await ok(h('phone'), ['sync'])
      })(),
      (async () => {
        await ok(h('laptop'), ['log', 'mood', '--mood', '3', '--stress', '2', '--note', 'd3-laptop-one'])
        await ok(h('laptop'), ['sync'])
      })(),
    ])
    await ok(h('phone'), ['sync'])

    // Two codes in turn: the second replaces the first.
    const oldCode = (await ok(h('phone'), ['recovery', 'create'])).last
    expect(oldCode).toMatch(CODE)
    const code = (await ok(h('laptop'), ['recovery', 'create'])).last
    expect(code).toMatch(CODE)
    expect(code).not.toBe(oldCode)
    const original = await showJson(h('phone'))
    expect(notesOf(original.journal)).toEqual(['d3-laptop-one', 'd3-phone-one'])

    // A mistyped code, a malformed one, a well-formed code nobody created, and the replaced one: refused with a reason, nothing joined.
    const i = code.search(/[0-9A-Z]/)
    const typo = code.slice(0, i) + (code[i] === 'A' ? 'B' : 'A') + code.slice(i + 1)
    const [mistyped, malformed, unknown, replaced] = await Promise.all([
      cli(h('typo'), ['recovery', 'use', typo, '--relay', relay.url]),
      cli(h('malformed'), ['recovery', 'use', 'not-a-code', '--relay', relay.url]),
      cli(h('unknown'), ['recovery', 'use', newRecoveryCode(), '--relay', relay.url]),
      cli(h('replaced'), ['recovery', 'use', oldCode, '--relay', relay.url]),
    ])
    expect(mistyped.code).not.toBe(0)
    expect(mistyped.stderr).toMatch(/recovery code checksum does not match|no vault on this relay knows that recovery code/)
    expect(malformed.code).not.toBe(0)
    expect(malformed.stderr).toMatch(/recovery code/)
    expect(unknown.code).not.toBe(0)
    expect(unknown.stderr).toMatch(/no vault on this relay knows that recovery code/)
    expect(replaced.code, replaced.stdout + replaced.stderr).not.toBe(0)
    expect(replaced.stderr).toMatch(/E_REVOKED|E_NOT_MEMBER/)
    for (const n of ['typo', 'malformed', 'unknown', 'replaced']) {
      const device = await openDevice(h(n))
      expect(device.membership.self(), n).toBeUndefined()
      await device.close()
    }

    // The current code brings a brand-new home back, with the whole journal, as an admin.
    const used = await ok(h('new'), ['recovery', 'use', code, '--relay', relay.url, '--name', 'new-phone'])
    const newId = deviceIdIn(used.stdout)
    await ok(h('new'), ['sync'])
    expect((await showJson(h('new'))).text).toBe(original.text)
    const recovered = await openDevice(h('new'))
    expect(recovered.deviceId).toBe(newId)
    expect(recovered.membership.self()?.scopes).toBe(Scope.read | Scope.write | Scope.admin)
    await recovered.close()

    // It adds a further device, which syncs and sees the journal, and whose entries reach the others.
    await pairHomes(h('new'), relay.url, [{ home: h('tablet'), name: 'tablet', scope: 'write' }])
    expect((await showJson(h('tablet'))).text).toBe(original.text)
    await ok(h('tablet'), ['log', 'session', '--minutes', '4', '--note', 'd3-tablet-one'])
    await ok(h('tablet'), ['sync'])
    await ok(h('phone'), ['sync'])
    expect(notesOf((await showJson(h('phone'))).journal)).toEqual(['d3-laptop-one', 'd3-phone-one', 'd3-tablet-one'])
  }, 90_000)
})
