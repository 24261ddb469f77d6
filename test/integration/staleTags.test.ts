import type { Transport } from '@mindsync/client'
import { EnvelopeKind, decodeEnvelope, decodeFrame, encodeFrame, envelopeTags, withTags } from '@mindsync/protocol'
import type { ClientMessage } from '@mindsync/protocol'
import { createMemoryRelayStorage, createRelayCore, silentLog } from '@mindsync/relay'
import { describe, expect, it } from 'vitest'
import { createCoreTransport } from '../harness/coreTransport.js'
import { admit, founder, notes, online, write } from '../harness/devices.js'

/**
 * The device's update envelopes leave with every receiver tag changed (as
 * tags made under an earlier tag algorithm, or damaged on the way: they sit
 * outside the signature), and with `breakSignature` their signature too.
 */
function rewriting(inner: Transport, options: { breakSignature: boolean }): Transport {
  return {
    async connect(request, handlers) {
      const c = await inner.connect(request, handlers)
      const rewrite = (m: ClientMessage): ClientMessage => {
        if (m.type !== 'push') return m
        const env = decodeEnvelope(m.envelope)
        if (env.header.kind !== EnvelopeKind.update) return m
        const tags = envelopeTags(env).map((t) => ({ to: t.to, tag: t.tag.map((b) => b ^ 0xff) }))
        expect(tags.length).toBeGreaterThan(0)
        const bytes = withTags(env, tags).bytes.slice()
        if (options.breakSignature) bytes[env.signed.length + 63] = (bytes[env.signed.length + 63] as number) ^ 1
        return { type: 'push', envelope: bytes }
      }
      return { send: (frame) => c.send(encodeFrame((decodeFrame(frame) as ClientMessage[]).map(rewrite))), close: (code, reason) => c.close(code, reason) }
    },
  }
}

async function phoneAndLaptop(breakSignature: boolean) {
  const net = createCoreTransport(createRelayCore({ storage: createMemoryRelayStorage(), log: silentLog }))
  const phone = await founder('phone', rewriting(net, { breakSignature }))
  const laptop = await admit(phone, 'laptop', net)
  const rejected: string[] = []
  laptop.client.on('rejected', (e) => rejected.push(e.code))
  await online(phone)
  await online(laptop)
  return { phone, laptop, rejected }
}

describe('receiver tags that do not check', () => {
  it('[ST1] an envelope whose tags do not check is authenticated by its signature and applied', async () => {
    const { phone, laptop, rejected } = await phoneAndLaptop(false)
    await write(phone, 'tags from an older algorithm')
    await expect.poll(() => notes(laptop), { timeout: 3000 }).toContain('tags from an older algorithm')
    expect(rejected).toEqual([])
    await laptop.client.close()
    await phone.client.close()
  })

  it('[ST2] a tag that does not check vouches for nothing: with its signature broken too, the envelope is refused', async () => {
    const { phone, laptop, rejected } = await phoneAndLaptop(true)
    await write(phone, 'forged on the way')
    await expect.poll(() => rejected, { timeout: 3000 }).toContain('E_FORGED')
    expect(notes(laptop)).not.toContain('forged on the way')
    await laptop.client.close()
    await phone.client.close()
  })
})
