import { listMessages, sendText, watchMessages } from './sandbox-api.js';
import { MessagesView } from './messages-view.js';
import { CallView } from './call-view.js';

/**
 * The patient phone simulator (sandbox provider only): /sandbox/phone?phone=+61…
 * Screens live side by side in #device: the messages screen, and the call
 * screens (incoming, in call) that take over while the clinic calls.
 */

const E164 = /^\+[1-9]\d{6,14}$/;

function showScreen(id) {
  for (const screen of document.querySelectorAll('.screen')) screen.hidden = screen.id !== id;
}

function startClock() {
  const clock = document.getElementById('clock');
  const format = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
  const tick = () => (clock.textContent = format.format(new Date()));
  tick();
  setInterval(tick, 15_000);
}

function chooseNumber() {
  showScreen('choose');
  const form = document.getElementById('choose-form');
  const input = document.getElementById('choose-phone');
  const error = document.getElementById('choose-error');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const phone = input.value.replace(/[\s()-]/g, '');
    if (!E164.test(phone)) {
      error.textContent = 'Enter the number in international format, e.g. +61491570006.';
      return;
    }
    const url = new URL(location.href);
    url.searchParams.set('phone', phone);
    location.assign(url);
  });
  input.focus();
}

async function openMessages(phone) {
  showScreen('messages');
  new CallView({ phone, show: showScreen, back: () => showScreen('messages') }).start();
  const root = document.getElementById('messages');
  const view = new MessagesView({ root, phone });
  const errorLine = document.getElementById('send-error');
  const composer = document.getElementById('composer');
  const reply = document.getElementById('reply');
  const sendButton = document.getElementById('send');

  const catchUp = async () => {
    try {
      view.upsert(await listMessages(phone, view.lastId));
    } catch (error) {
      errorLine.textContent = `Could not load messages: ${error.message}`;
    }
  };
  watchMessages(phone, {
    onMessage: (message) => view.upsert([message]),
    onOpen: () => {
      view.setLive(true);
      void catchUp();
    },
    onDown: () => view.setLive(false),
  });
  await catchUp();

  const send = async (text) => {
    const body = text.trim();
    if (!body) return;
    sendButton.disabled = true;
    errorLine.textContent = '';
    try {
      view.upsert([await sendText(phone, body, view.replyTo)]);
      if (text === reply.value) reply.value = '';
      resize();
    } catch (error) {
      errorLine.textContent = `Not sent: ${error.message}`;
    } finally {
      sendButton.disabled = false;
    }
  };
  const resize = () => {
    reply.style.height = 'auto';
    reply.style.height = `${Math.min(reply.scrollHeight, 120)}px`;
  };

  composer.addEventListener('submit', (event) => {
    event.preventDefault();
    void send(reply.value);
  });
  reply.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void send(reply.value);
    }
  });
  reply.addEventListener('input', resize);
  for (const button of root.querySelectorAll('[data-reply]')) {
    button.addEventListener('click', () => void send(button.dataset.reply));
  }
}

startClock();
// A hand-typed ?phone=+61… arrives with its + decoded as a space.
const rawPhone = new URLSearchParams(location.search).get('phone') ?? '';
const phone = rawPhone.replace(/^ (?=\d)/, '+').replace(/[\s()-]/g, '');
if (E164.test(phone)) void openMessages(phone);
else chooseNumber();
