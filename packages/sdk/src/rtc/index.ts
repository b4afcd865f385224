/**
 * Media for the sandbox provider: a real WebRTC peer signalled through the
 * CareComms server. Loaded only when a call or visit starts.
 */
export { createSignalChannel, type RtcRole, type SignalChannel, type SignalChannelOptions, type SignalHandlers, type SignalMessage } from './signal-channel.js';
export { PeerControlEvent, PeerEndedEvent, SandboxPeer, type PeerState, type SandboxPeerOptions } from './sandbox-peer.js';
