import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignallingHub, type SignalMessage } from '../src/realtime/signalling.js';

const recorder = () => {
  const messages: SignalMessage[] = [];
  return { messages, listener: (m: SignalMessage) => messages.push(m) };
};

test('relays between the two seats and announces presence both ways', () => {
  const hub = new SignallingHub();
  const doctor = recorder();
  const patient = recorder();
  hub.join('room-1', 'practitioner', doctor.listener);
  assert.equal(hub.send('room-1', { type: 'offer', from: 'practitioner', data: 'sdp' }), false, 'nobody to receive yet');
  hub.join('room-1', 'patient', patient.listener);
  assert.deepEqual(doctor.messages, [{ type: 'peer-joined', from: 'patient' }]);
  assert.deepEqual(patient.messages, [{ type: 'peer-joined', from: 'practitioner' }]);
  assert.equal(hub.send('room-1', { type: 'offer', from: 'practitioner', data: 'sdp' }), true);
  assert.deepEqual(patient.messages.at(-1), { type: 'offer', from: 'practitioner', data: 'sdp' });
  assert.equal(doctor.messages.length, 1, 'a sender does not hear itself');
});

test('a second device replaces the first in its seat', () => {
  const hub = new SignallingHub();
  const doctor = recorder();
  const phone1 = recorder();
  const phone2 = recorder();
  hub.join('r', 'practitioner', doctor.listener);
  const leave1 = hub.join('r', 'patient', phone1.listener);
  hub.join('r', 'patient', phone2.listener);
  assert.deepEqual(phone1.messages.at(-1), { type: 'replaced', from: 'patient' });
  hub.send('r', { type: 'answer', from: 'practitioner' });
  assert.equal(phone1.messages.filter((m) => m.type === 'answer').length, 0);
  assert.equal(phone2.messages.filter((m) => m.type === 'answer').length, 1);
  // The replaced device leaving does not evict the new one.
  leave1();
  assert.equal(hub.isPresent('r', 'patient'), true);
  assert.equal(doctor.messages.filter((m) => m.type === 'peer-left').length, 0);
});

test('leaving tells the other seat; closing says bye and frees the room', () => {
  const hub = new SignallingHub();
  const doctor = recorder();
  const patient = recorder();
  hub.join('r', 'practitioner', doctor.listener);
  const leave = hub.join('r', 'patient', patient.listener);
  leave();
  assert.deepEqual(doctor.messages.at(-1), { type: 'peer-left', from: 'patient' });
  hub.join('r', 'patient', patient.listener);
  hub.close('r', 'practitioner');
  assert.deepEqual(patient.messages.at(-1), { type: 'bye', from: 'practitioner' });
  assert.equal(hub.isPresent('r', 'patient'), false);
});
