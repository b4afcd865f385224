import { answerCall, declineCall, hangUpCall, watchCalls } from './sandbox-api.js';

/**
 * The phone's call screens: an incoming call (Answer / Decline), the call
 * itself (timer, "On hold", Mute, End) and how it ended. The audio is real
 * WebRTC with the clinician's browser, through the same sandbox peer the SDK
 * uses (`/sandbox/assets/sdk/rtc.js`, built by `npm run build`), loaded only
 * when a call is answered. All text is set with textContent.
 */

const OUTCOME_TEXT = {
  completed: 'Call ended',
  busy: 'Call declined',
  'no-answer': 'Missed call',
  canceled: 'Missed call',
  failed: 'Call failed',
};

/** How long the "call ended" screen stays before the messages come back. */
const ENDED_SCREEN_MS = 2500;

const formatTimer = (seconds) => `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;

let rtcModule;
/** The sandbox peer module: one cached import, cleared on failure so the next call can retry. */
function loadRtc() {
  rtcModule ??= import('/sandbox/assets/sdk/rtc.js').catch((error) => {
    rtcModule = undefined;
    throw error;
  });
  return rtcModule;
}

/** Soft hold music, made on the phone itself (the clinic's side stops sending audio while the patient holds). */
class HoldMusic {
  constructor(context) {
    this.context = context;
    this.timer = null;
  }

  start() {
    if (this.timer || !this.context) return;
    const notes = [523.25, 659.25, 783.99, 659.25];
    let step = 0;
    const play = () => {
      const now = this.context.currentTime;
      const oscillator = this.context.createOscillator();
      const gain = this.context.createGain();
      oscillator.type = 'sine';
      oscillator.frequency.value = notes[step++ % notes.length];
      gain.gain.setValueAtTime(0, now);
      gain.gain.linearRampToValueAtTime(0.08, now + 0.05);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.55);
      oscillator.connect(gain).connect(this.context.destination);
      oscillator.start(now);
      oscillator.stop(now + 0.6);
    };
    play();
    this.timer = setInterval(play, 600);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }
}

export class CallView {
  /** @param {{ phone: string, show: (screenId: string) => void, back: () => void }} options */
  constructor({ phone, show, back }) {
    this.phone = phone;
    this.show = show;
    this.back = back;
    this.current = null;
    /** The call this phone answered, with its audio. */
    this.answered = null;
    this.$ = (id) => document.getElementById(id);
    this.audio = new Audio();
    this.audio.autoplay = true;
    this.bind();
  }

  start() {
    watchCalls(this.phone, { onCall: (call) => this.onCall(call) });
  }

  bind() {
    this.$('answer').addEventListener('click', () => void this.answer());
    this.$('decline').addEventListener('click', () => void this.act(declineCall));
    this.$('hangup').addEventListener('click', () => void this.act(hangUpCall));
    this.$('phone-mute').addEventListener('click', () => this.toggleMute());
  }

  onCall(call) {
    // One call at a time: another clinic calling meanwhile keeps ringing out.
    if (this.current && this.current.id !== call.id && this.current.state !== 'ended') return;
    // The messages screen's title comes back with it.
    if (!this.current) this.messagesTitle = document.title;
    this.current = call;
    clearTimeout(this.backTimer);
    if (call.state === 'ringing') {
      this.renderIncoming(call);
      this.show('call-incoming');
    } else if (call.state === 'in-progress') {
      if (this.answered?.id !== call.id) {
        // Answered on another device (another simulator tab): nothing to show here.
        this.leave();
        return;
      }
      this.renderActive(call);
      this.show('call-active');
    } else {
      this.renderEnded(call);
      this.stopMedia();
      this.show('call-active');
      this.backTimer = setTimeout(() => {
        if (this.current?.id === call.id) this.leave();
      }, ENDED_SCREEN_MS);
    }
  }

  /** Back to the messages, as they were. */
  leave() {
    this.current = null;
    document.title = this.messagesTitle;
    this.back();
  }

  renderCaller(prefix, call) {
    const name = call.clinicName ?? call.from;
    this.$(`${prefix}-name`).textContent = name;
    this.$(`${prefix}-number`).textContent = call.clinicName ? call.from : '';
    this.$(`${prefix}-avatar`).textContent = name.trim().charAt(0).toUpperCase() || '?';
    const notice = this.$(`${prefix}-recording`);
    notice.hidden = !call.recording;
    notice.textContent = `${call.clinicName ?? 'The clinic'} records this call for your health record.`;
  }

  renderIncoming(call) {
    this.renderCaller('incoming', call);
    this.$('answer').disabled = false;
    this.$('decline').disabled = false;
    this.$('call-error').textContent = '';
    document.title = `Incoming call · ${call.clinicName ?? call.from}`;
  }

  renderActive(call) {
    this.renderCaller('active', call);
    const held = call.onHold;
    const status = this.$('call-status');
    status.textContent = held ? 'On hold' : this.answered?.connection ?? 'Connecting…';
    status.dataset.state = held ? 'hold' : 'live';
    this.$('call-active').dataset.hold = String(held);
    this.$('hangup').disabled = false;
    this.$('phone-mute').disabled = false;
    if (held) this.answered?.music.start();
    else this.answered?.music.stop();
    this.tick();
  }

  renderEnded(call) {
    this.renderCaller('active', call);
    const text = OUTCOME_TEXT[call.outcome] ?? 'Call ended';
    const status = this.$('call-status');
    status.textContent = call.outcome === 'completed' && call.durationSeconds !== null ? `${text} · ${formatTimer(call.durationSeconds)}` : text;
    status.dataset.state = 'ended';
    this.$('call-active').dataset.hold = 'false';
    this.$('call-timer').hidden = true;
    this.$('hangup').disabled = true;
    this.$('phone-mute').disabled = true;
    document.title = `${text} · Patient phone`;
  }

  tick() {
    const timer = this.$('call-timer');
    const since = this.answered?.at;
    timer.hidden = !since;
    if (since) timer.textContent = formatTimer(Math.floor((Date.now() - since) / 1000));
  }

  async act(action) {
    const call = this.current;
    if (!call) return;
    for (const id of ['answer', 'decline', 'hangup']) this.$(id).disabled = true;
    try {
      this.onCall((await action(call.id, this.phone)).call);
    } catch (error) {
      this.$('call-error').textContent = error.message;
    }
  }

  async answer() {
    const call = this.current;
    if (!call || call.state !== 'ringing') return;
    this.$('answer').disabled = true;
    this.$('decline').disabled = true;
    // The tap on Answer is what lets the page play audio: make the audio context now.
    const context = globalThis.AudioContext ? new AudioContext() : null;
    let answered;
    try {
      answered = await answerCall(call.id, this.phone);
    } catch (error) {
      this.$('call-error').textContent = `Could not answer: ${error.message}`;
      void context?.close();
      return;
    }
    this.answered = { id: call.id, at: Date.now(), connection: 'Connecting…', context, music: new HoldMusic(context), muted: false };
    this.clock = setInterval(() => this.tick(), 500);
    this.onCall(answered.call);
    if (call.recording) this.speak(`${call.clinicName ?? 'The clinic'} records this call.`);
    await this.startMedia(call.id, answered.seatKey).catch((error) => {
      this.$('call-error').textContent = `No audio: ${error.message}`;
    });
  }

  async startMedia(id, seatKey) {
    const session = this.answered;
    const rtc = await loadRtc();
    let local;
    try {
      local = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      // No microphone: the patient can still listen.
      local = new MediaStream();
      this.$('call-error').textContent = 'No microphone: listening only.';
    }
    if (this.answered !== session) {
      for (const track of local.getTracks()) track.stop();
      return;
    }
    session.local = local;
    const channel = rtc.createSignalChannel({
      url: `/sandbox/api/calls/${encodeURIComponent(id)}/signal`,
      headers: () => ({ authorization: `Bearer ${seatKey}` }),
    });
    const peer = (session.peer = new rtc.SandboxPeer({ role: 'patient', channel, localStream: local }));
    const labels = { waiting: 'Connecting…', connecting: 'Connecting…', connected: 'Connected', reconnecting: 'Reconnecting…', ended: 'Connected' };
    peer.addEventListener('state', () => {
      session.connection = labels[peer.state] ?? 'Connected';
      this.$('call-active').dataset.media = peer.state;
      if (this.current?.state === 'in-progress') this.renderActive(this.current);
    });
    peer.addEventListener('remote-stream', () => {
      this.audio.srcObject = peer.remoteStream;
      if (peer.remoteStream) {
        void this.audio.play().catch(() => undefined);
        this.watchLevel(session, peer.remoteStream);
      }
    });
    peer.addEventListener('control', (event) => {
      if (event.control === 'mute') this.$('clinic-muted').hidden = !event.data?.muted;
    });
    peer.start();
  }

  /** Shows how loud the clinician comes through (and exposes it as data-level for tests). */
  watchLevel(session, stream) {
    session.stopLevel?.();
    if (!session.context || stream.getAudioTracks().length === 0) return;
    const source = session.context.createMediaStreamSource(stream);
    const analyser = session.context.createAnalyser();
    analyser.fftSize = 512;
    source.connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const meter = this.$('remote-level');
    const timer = setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const sample of samples) sum += sample * sample;
      const level = Math.min(1, Math.sqrt(sum / samples.length) * 4);
      meter.style.width = `${Math.round(level * 100)}%`;
      meter.dataset.level = level.toFixed(3);
    }, 100);
    session.stopLevel = () => {
      clearInterval(timer);
      source.disconnect();
    };
  }

  toggleMute() {
    const session = this.answered;
    if (!session) return;
    session.muted = !session.muted;
    for (const track of session.local?.getAudioTracks() ?? []) track.enabled = !session.muted;
    const button = this.$('phone-mute');
    button.setAttribute('aria-pressed', String(session.muted));
    button.querySelector('.label').textContent = session.muted ? 'Unmute' : 'Mute';
  }

  speak(text) {
    try {
      globalThis.speechSynthesis?.speak(new SpeechSynthesisUtterance(text));
    } catch {
      // No speech on this browser: the notice is on screen.
    }
  }

  stopMedia() {
    const session = this.answered;
    clearInterval(this.clock);
    if (!session) return;
    this.answered = null;
    session.music.stop();
    session.stopLevel?.();
    session.peer?.close();
    for (const track of session.local?.getTracks() ?? []) track.stop();
    void session.context?.close().catch(() => undefined);
    this.audio.srcObject = null;
    this.$('clinic-muted').hidden = true;
    const mute = this.$('phone-mute');
    mute.setAttribute('aria-pressed', 'false');
    mute.querySelector('.label').textContent = 'Mute';
    const meter = this.$('remote-level');
    meter.style.width = '0%';
    meter.dataset.level = '0';
  }
}
