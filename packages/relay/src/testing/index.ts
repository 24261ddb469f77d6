/**
 * Test helpers for the relay and for anything that talks to it: the
 * RelayStorage conformance suite, devices and vaults that build valid signed
 * ops and sealed envelopes, and a raw WebSocket client.
 * @packageDocumentation
 */
export { runRelayStorageTests } from './storageSuite.js'
export type { RelayStorageSetup } from './storageSuite.js'
export { coveredHeads, createTestDevice, createTestVault, signAuth, testDocId } from './fixtures.js'
export type { EnvelopeOptions, TestDevice, TestVault } from './fixtures.js'
export { authParams, connectTestDevice, connectWithParams, fetchChallenge, mustConnect } from './wsClient.js'
export type { TestConnection, TestRefusal } from './wsClient.js'
export { appendOps, authenticateWithCore, connectToCore, registerVault } from './coreClient.js'
export type { CoreConnection } from './coreClient.js'
export { deliveredHead, receivedSeqs } from './delivery.js'
