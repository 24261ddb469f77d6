import { createSystem as hocuspocus } from './hocuspocus.mjs'
import { createSystem as mindsync } from './mindsync.mjs'
import { createSystem as rawWs } from './rawWs.mjs'
import { createSystem as yWebsocket } from './yWebsocket.mjs'

/** Client-side adapters, one per system, all with the same device interface. */
export const systems = { mindsync, 'y-websocket': yWebsocket, hocuspocus, 'raw-ws': rawWs }
export const SYSTEMS = Object.keys(systems)
