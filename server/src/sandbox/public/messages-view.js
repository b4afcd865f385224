/**
 * The messages screen: one conversation between this phone and the clinic.
 * Every piece of message text is set with textContent (links are built as
 * elements, never from HTML), so nothing a message says can run as code.
 */

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'short' });
// A link ends before the punctuation that closes its sentence ("…/join/abc." or "(see …/help)."), as phones link it.
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']*[^\s<>"'.,;:!?)\]}]/g;

/** Appends `text` to `parent`, with http(s) URLs as links (a video-visit link opens in a new tab). */
function appendText(parent, text) {
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    parent.append(document.createTextNode(text.slice(last, match.index)));
    const link = document.createElement('a');
    link.href = match[0];
    link.textContent = match[0];
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    parent.append(link);
    last = match.index + match[0].length;
  }
  parent.append(document.createTextNode(text.slice(last)));
}

const STATUS_LABEL = { queued: 'Sending…', sent: 'Sent', delivered: 'Delivered', received: 'Delivered', failed: 'Not delivered', undelivered: 'Not delivered' };

export class MessagesView {
  /** @param {{ root: HTMLElement, phone: string }} options */
  constructor({ root, phone }) {
    this.phone = phone;
    this.list = root.querySelector('#bubbles');
    this.empty = root.querySelector('#empty');
    this.clinicName = root.querySelector('#clinic-name');
    this.clinicNumber = root.querySelector('#clinic-number');
    this.avatar = root.querySelector('#clinic-avatar');
    this.connection = root.querySelector('#connection');
    root.querySelector('#this-phone').textContent = phone;
    /** @type {Map<string, object>} messages by id, in id order */
    this.messages = new Map();
  }

  /** The id of the newest message shown: where a catch-up fetch starts. */
  get lastId() {
    let last = null;
    for (const id of this.messages.keys()) if (last === null || BigInt(id) > BigInt(last)) last = id;
    return last;
  }

  /** The clinic this phone last heard from: where replies go. */
  get replyTo() {
    const received = [...this.messages.values()].filter((m) => m.to === this.phone);
    return received.at(-1)?.from ?? null;
  }

  /** Adds or updates messages (a status change arrives as the same id). */
  upsert(messages) {
    const nearBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80;
    for (const message of messages) this.messages.set(message.id, message);
    const ordered = [...this.messages.values()].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    this.messages = new Map(ordered.map((m) => [m.id, m]));
    this.render();
    if (nearBottom || messages.some((m) => m.from === this.phone)) this.list.scrollTop = this.list.scrollHeight;
  }

  setLive(live) {
    this.connection.textContent = live ? 'live' : 'reconnecting…';
    this.connection.dataset.live = String(live);
  }

  render() {
    const ordered = [...this.messages.values()];
    this.empty.hidden = ordered.length > 0;
    this.renderHeader(ordered);
    const clinics = new Set(ordered.map((m) => (m.from === this.phone ? m.to : m.from)));
    const items = [];
    let day = '';
    ordered.forEach((message, index) => {
      const created = new Date(message.createdAt);
      const thisDay = dayFormat.format(created);
      if (thisDay !== day) {
        day = thisDay;
        items.push(this.renderDay(thisDay));
      }
      const next = ordered[index + 1];
      items.push(this.renderBubble(message, clinics.size > 1));
      // Time (and, for our own last text, its status) under the last bubble of a run.
      const mine = message.from === this.phone;
      if (!next || (next.from === this.phone) !== mine || new Date(next.createdAt) - created > 5 * 60_000) {
        items.push(this.renderMeta(message, mine, !next || ordered.slice(index + 1).every((m) => m.from !== this.phone)));
      }
    });
    this.list.replaceChildren(...items);
  }

  renderHeader(ordered) {
    const fromClinic = [...ordered].reverse().find((m) => m.to === this.phone);
    const name = fromClinic?.clinicName ?? 'Clinic';
    this.clinicName.textContent = name;
    this.clinicNumber.textContent = fromClinic ? fromClinic.from : `This phone: ${this.phone}`;
    this.avatar.textContent = name.trim().charAt(0).toUpperCase() || '?';
    document.title = `${name} · Patient phone`;
  }

  renderDay(label) {
    const li = document.createElement('li');
    li.className = 'day';
    li.textContent = label;
    return li;
  }

  renderBubble(message, showClinic) {
    const mine = message.from === this.phone;
    const li = document.createElement('li');
    li.className = `bubble ${mine ? 'out' : 'in'}`;
    li.dataset.id = message.id;
    if (showClinic && !mine) {
      const from = document.createElement('span');
      from.className = 'from';
      from.textContent = message.clinicName ?? message.from;
      li.append(from);
    }
    appendText(li, message.body);
    return li;
  }

  renderMeta(message, mine, isLatestOfMine) {
    const li = document.createElement('li');
    li.className = `meta ${mine ? 'out' : 'in'}`;
    const time = timeFormat.format(new Date(message.createdAt));
    li.textContent = mine && isLatestOfMine ? `${STATUS_LABEL[message.status] ?? message.status} · ${time}` : time;
    return li;
  }
}
