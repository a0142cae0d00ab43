// Loopback-only js-ipfs (ipfs-core 0.18 / ipfs-daemon 0.16, libp2p 0.42) node
// used by the Rust test suite as "a real IPFS node".
//
// Usage: node daemon.mjs REPO_DIR API_PORT SWARM_PORT
//
// - HTTP RPC API on 127.0.0.1:API_PORT, libp2p TCP on 127.0.0.1:SWARM_PORT only
// - no WebSockets / WebRTC / MDNS / bootstrap / delegates / DHT / NAT / relay /
//   pubsub / preload / gateway / gRPC
// - the connection gater refuses every non-loopback dial and inbound connection
// - sha3-256 is registered as an extra hasher (js-ipfs has none by default)
//
// Started and stopped by ../ipfs-node.sh; run that instead of this file.

// js-ipfs (via newer transitive deps) calls Promise.withResolvers, which only
// exists from Node 22 on.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

const { Daemon } = await import('ipfs-daemon')
const { createLibp2p } = await import('libp2p')
const { tcp } = await import('@libp2p/tcp')
const { from: hasherFrom } = await import('multiformats/hashes/hasher')
const jsSha3 = (await import('js-sha3')).default

const [repoDir, apiPortArg, swarmPortArg] = process.argv.slice(2)
const apiPort = Number.parseInt(apiPortArg ?? '', 10)
const swarmPort = Number.parseInt(swarmPortArg ?? '', 10)
if (!repoDir || !(apiPort > 0 && apiPort < 65536) || !(swarmPort > 0 && swarmPort < 65536)) {
  console.error('usage: node daemon.mjs REPO_DIR API_PORT SWARM_PORT')
  process.exit(2)
}

// multihash code 0x16 = sha3-256 (same hasher as @multiformats/sha3's sha3256,
// built against the multiformats version ipfs-core itself uses)
const sha3256 = hasherFrom({
  name: 'sha3-256',
  code: 0x16,
  encode: (input) => new Uint8Array(jsSha3.sha3_256.arrayBuffer(input))
})

/** true when the multiaddr's IP part is loopback (127.0.0.0/8 or ::1) */
function isLoopback (ma) {
  try {
    for (const [code, value] of ma.stringTuples()) {
      if (code === 4) return typeof value === 'string' && value.startsWith('127.') // ip4
      if (code === 41) return value === '::1' || value === '0:0:0:0:0:0:0:1' // ip6
    }
  } catch {}
  return false // dns*, unix, relay-only, etc.
}

const connectionGater = {
  denyDialMultiaddr: async (_peerId, ma) => !isLoopback(ma),
  denyInboundConnection: async (maConn) => !isLoopback(maConn.remoteAddr),
  denyOutboundConnection: async (_peerId, maConn) => !isLoopback(maConn.remoteAddr),
  filterMultiaddrForPeer: async (_peerId, ma) => isLoopback(ma)
}

const swarmAddr = `/ip4/127.0.0.1/tcp/${swarmPort}`

const config = {
  Addresses: {
    Swarm: [swarmAddr],
    API: `/ip4/127.0.0.1/tcp/${apiPort}`,
    Gateway: [],
    RPC: '', // no gRPC server
    Announce: [],
    AppendAnnounce: [],
    NoAnnounce: [],
    Delegates: []
  },
  Bootstrap: [],
  Discovery: {
    MDNS: { Enabled: false },
    webRTCStar: { Enabled: false }
  },
  Routing: { Type: 'none' },
  Pubsub: { Enabled: false },
  Swarm: { DisableNatPortMap: true }
}

const daemon = new Daemon({
  repo: repoDir,
  init: { algorithm: 'Ed25519' },
  start: true,
  silent: true,
  preload: { enabled: false },
  relay: { enabled: false, hop: { enabled: false } },
  EXPERIMENTAL: { ipnsPubsub: false },
  config,
  ipld: { hashers: [sha3256] },
  // Replace ipfs-daemon's default factory (which adds webrtc-star) and take
  // full control of transports and discovery.
  libp2p: async ({ libp2pOptions }) => {
    return await createLibp2p({
      ...libp2pOptions,
      addresses: { listen: [swarmAddr], announce: [], noAnnounce: [] },
      transports: [tcp()], // no WebSockets: it binds every interface
      peerDiscovery: [], // no MDNS, no bootstrap
      contentRouters: [],
      peerRouters: [],
      dht: undefined,
      pubsub: undefined,
      nat: { enabled: false },
      relay: { enabled: false, hop: { enabled: false, active: false }, autoRelay: { enabled: false } },
      connectionManager: {
        ...(libp2pOptions.connectionManager ?? {}),
        autoDial: false
      },
      connectionGater,
      start: false
    })
  }
})

let stopping = false
async function shutdown (signal) {
  if (stopping) return
  stopping = true
  console.log(`received ${signal}, stopping`)
  const force = setTimeout(() => {
    console.error('stop timed out, exiting anyway')
    process.exit(1)
  }, 10000)
  force.unref()
  try {
    await daemon.stop()
  } catch (err) {
    console.error('error while stopping:', err)
  }
  console.log('stopped')
  process.exit(0)
}
process.on('SIGTERM', () => { shutdown('SIGTERM') })
process.on('SIGINT', () => { shutdown('SIGINT') })

try {
  await daemon.start()
} catch (err) {
  console.error('failed to start:', err)
  process.exit(1)
}

const id = await daemon._ipfs.id()
console.log(`peer id: ${id.id.toString()}`)
for (const a of id.addresses) console.log(`swarm address: ${a.toString()}`)
console.log(`API: http://127.0.0.1:${apiPort}`)
console.log('daemon ready')
