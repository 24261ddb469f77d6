/** What a transport needs to open an authenticated connection to a relay. */
export interface ConnectRequest {
  /** The relay's base URL, e.g. ws://127.0.0.1:8787 */
  url: string
  /** The vault to open; undefined asks the relay which vault this device was admitted to. */
  vaultId: Uint8Array | undefined
  signPub: Uint8Array
  /** Signs the relay's challenge (see protocol's authMessage). */
  signAuth(relayId: Uint8Array, challenge: Uint8Array): Uint8Array
}

export interface ConnectionHandlers {
  onFrame(frame: Uint8Array): void
  onClose(code: number, reason: string): void
}

/** An open, authenticated connection carrying binary frames. */
export interface Connection {
  send(frame: Uint8Array): void
  close(code?: number, reason?: string): void
}

/**
 * Opens connections to a relay. Rejects with a MindsyncError: E_UNREACHABLE
 * when the relay cannot be reached, or the relay's own code (E_UNAUTHORIZED,
 * E_NOT_MEMBER, E_REVOKED, …) when it refuses the device.
 */
export interface Transport {
  connect(request: ConnectRequest, handlers: ConnectionHandlers): Promise<Connection>
}
