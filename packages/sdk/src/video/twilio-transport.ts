import type { LocalAudioTrack, LocalVideoTrack, RemoteParticipant, RemoteTrack, Room, TwilioError } from 'twilio-video';
import type { TwilioVideo } from './twilio-loader.js';
import type { RemoteMediaState, TransportListener, VideoTransport } from './transport.js';

export interface TwilioTransportOptions {
  token: string;
  roomName: string;
  load: () => Promise<TwilioVideo>;
}

/** Twilio's error codes for a room that disconnected us (https://www.twilio.com/docs/api/errors). */
const DUPLICATE_IDENTITY = 53205;
const ROOM_COMPLETED = 53118;
const TOKEN_ERRORS = new Set([20101, 20103, 20104, 20105, 20107, 53106, 53105]);

/** Twilio Video: the room the server created, joined with the token it issued. */
export class TwilioTransport implements VideoTransport {
  private room: Room | null = null;
  private video: TwilioVideo | null = null;
  private readonly local = new Map<'audio' | 'video', LocalAudioTrack | LocalVideoTrack>();
  private readonly media: RemoteMediaState = { audio: true, video: true };
  private left = false;

  constructor(
    private readonly options: TwilioTransportOptions,
    private readonly listener: TransportListener,
  ) {}

  async connect(localStream: MediaStream): Promise<void> {
    const Video = (this.video = await this.options.load());
    for (const track of localStream.getTracks()) this.local.set(track.kind as 'audio' | 'video', this.wrap(track));
    let room: Room;
    try {
      room = await Video.connect(this.options.token, {
        name: this.options.roomName,
        tracks: [...this.local.values()],
        // The visit's history comes from the server, not from Twilio's client insights.
        insights: false,
      });
    } catch (error) {
      const code = (error as TwilioError).code;
      this.listener.ended(TOKEN_ERRORS.has(code) ? 'refused' : code === ROOM_COMPLETED ? 'ended' : 'failed', error as Error);
      return;
    }
    if (this.left) {
      room.disconnect();
      return;
    }
    this.room = room;
    room.participants.forEach((participant) => this.addParticipant(participant));
    room.on('participantConnected', (participant: RemoteParticipant) => this.addParticipant(participant));
    room.on('participantDisconnected', () => {
      if (room.participants.size === 0) {
        this.setRemote(null);
        this.listener.state('waiting');
      }
    });
    room.on('reconnecting', () => this.listener.state('reconnecting'));
    room.on('reconnected', () => this.listener.state(room.participants.size > 0 ? 'connected' : 'waiting'));
    room.on('disconnected', (_room: Room, error?: TwilioError) => {
      this.room = null;
      if (this.left) return;
      if (!error) this.listener.ended('ended');
      else if (error.code === DUPLICATE_IDENTITY) this.listener.ended('replaced', error);
      else if (error.code === ROOM_COMPLETED) this.listener.ended('ended', error);
      else this.listener.ended('failed', error);
    });
    this.listener.state(room.participants.size > 0 ? 'connected' : 'waiting');
  }

  async replaceTrack(track: MediaStreamTrack): Promise<void> {
    const kind = track.kind as 'audio' | 'video';
    const previous = this.local.get(kind);
    const next = this.wrap(track);
    this.local.set(kind, next);
    const participant = this.room?.localParticipant;
    if (!participant) return;
    if (previous) participant.unpublishTrack(previous);
    await participant.publishTrack(next);
  }

  async removeTrack(kind: 'audio' | 'video'): Promise<void> {
    const previous = this.local.get(kind);
    this.local.delete(kind);
    if (previous) this.room?.localParticipant.unpublishTrack(previous);
  }

  setEnabled(kind: 'audio' | 'video', enabled: boolean): void {
    const track = this.local.get(kind);
    if (enabled) track?.enable();
    else track?.disable();
  }

  disconnect(): void {
    this.left = true;
    this.room?.disconnect();
    this.room = null;
  }

  private wrap(track: MediaStreamTrack): LocalAudioTrack | LocalVideoTrack {
    // Tracks made from our own MediaStreamTracks: the session, not Twilio, stops them on leave.
    const Video = this.video!;
    return track.kind === 'audio' ? new Video.LocalAudioTrack(track) : new Video.LocalVideoTrack(track);
  }

  private addParticipant(participant: RemoteParticipant): void {
    const stream = new MediaStream();
    this.setRemote(stream);
    // Someone who joined without a camera (voice only) publishes no video at all: "camera off", not an empty stage.
    // Nothing is kept from an earlier participant (the same patient before a rejoin): their tracks say the rest.
    this.media.video = participant.videoTracks.size > 0;
    this.media.audio = true;
    this.listener.remoteMedia({ ...this.media });
    participant.on('trackUnpublished', (publication: { kind: string }) => {
      if (publication.kind === 'video') this.setMedia('video', false);
    });
    const attach = (track: RemoteTrack) => {
      if (track.kind !== 'audio' && track.kind !== 'video') return;
      for (const old of stream.getTracks().filter((t) => t.kind === track.kind)) stream.removeTrack(old);
      stream.addTrack(track.mediaStreamTrack);
      this.media[track.kind] = track.isEnabled;
      track.on('disabled', () => this.setMedia(track.kind as 'audio' | 'video', false));
      track.on('enabled', () => this.setMedia(track.kind as 'audio' | 'video', true));
      this.listener.remoteStream(stream);
      this.listener.remoteMedia({ ...this.media });
    };
    participant.tracks.forEach((publication) => {
      if (publication.track) attach(publication.track);
    });
    participant.on('trackSubscribed', attach);
    participant.on('trackUnsubscribed', (track: RemoteTrack) => {
      if (track.kind === 'audio' || track.kind === 'video') stream.removeTrack(track.mediaStreamTrack);
      this.listener.remoteStream(stream);
    });
    this.listener.state('connected');
  }

  private setRemote(stream: MediaStream | null): void {
    this.listener.remoteStream(stream);
  }

  private setMedia(kind: 'audio' | 'video', enabled: boolean): void {
    this.media[kind] = enabled;
    this.listener.remoteMedia({ ...this.media });
  }
}
