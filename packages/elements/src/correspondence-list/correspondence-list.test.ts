import { aTimeout, expect, fixture, html, waitUntil } from '@open-wc/testing';
import { sendKeys, setViewport } from '@web/test-runner-commands';
import { define } from '../lazy.js';
import { makeEntries } from '../test-fixtures/data.js';
import { FakeServer, type FakeServerOptions } from '../test-fixtures/fake-server.js';
import { ignoreResizeObserverLoop } from '../test-fixtures/helpers.js';
import { CareCorrespondenceList, PLAIN_ROWS } from './correspondence-list.js';

ignoreResizeObserverLoop();
define('care-correspondence-list', CareCorrespondenceList);

async function setup(options: FakeServerOptions = {}, attrs: { patientId?: string; pageSize?: number } = {}) {
  const server = new FakeServer(options);
  const el = await fixture<CareCorrespondenceList>(html`<div style="height: 600px; overflow: auto">
    <care-correspondence-list
      .client=${server.client()}
      .patientId=${attrs.patientId ?? ''}
      .pageSize=${attrs.pageSize ?? 30}
    ></care-correspondence-list>
  </div>`).then((wrapper) => wrapper.querySelector('care-correspondence-list')!);
  const rows = () => [...el.shadowRoot!.querySelectorAll<HTMLElement>('[role="listitem"]')];
  const text = (row: HTMLElement) => row.textContent!.replace(/\s+/g, ' ').trim();
  return { server, el, rows, text };
}

describe('care-correspondence-list', () => {
  // The list fetches its virtualizer on first use; load it once up front so per-test waits stay short.
  before(() => import('@lit-labs/virtualizer/virtualize.js'));

  afterEach(() => setViewport({ width: 1280, height: 800 }));

  it('lists entries newest first with channel badge, direction, status and time', async () => {
    const { el, rows, text } = await setup();
    await waitUntil(() => rows().length === 12, 'rows rendered');
    const first = rows()[0]!;
    expect(first.querySelector('[part="badge"]')!.textContent!.trim()).to.equal('SMS');
    expect(first.querySelector('[part="badge"]')!.classList.contains('sms')).to.be.true;
    expect(text(first)).to.contain('Outbound');
    expect(text(first)).to.contain('Delivered');
    expect(first.querySelector('time')!.getAttribute('datetime')).to.equal('2025-06-02T09:00:00.000Z');
    const times = rows().map((r) => r.querySelector('time')!.getAttribute('datetime')!);
    expect([...times].sort().reverse()).to.deep.equal(times);
    const voice = rows()[6]!;
    // Durations and recordings come from <care-entry-details>, which ships with the list.
    await waitUntil(() => /Voice.*Duration \d+:\d\d.*Recording available/.test(text(voice)), 'voice details shown');
    await expect(el).to.be.accessible();
  });

  it('renders message bodies as text, never HTML', async () => {
    const { rows } = await setup();
    await waitUntil(() => rows().length > 0);
    const body = rows()[4]!.querySelector('[part="body"]')!;
    expect(body.textContent).to.equal('<b>Not bold</b> — bodies are text, never HTML.');
    expect(body.querySelector('b')).to.be.null;
  });

  it('shows a long message whole, its last lines included', async () => {
    await setViewport({ width: 400, height: 800 });
    const entries = makeEntries(3);
    const long = `${'The tablets are not helping with the headaches I have had since Tuesday. '.repeat(18)}Is the medication safe now that I am pregnant?`;
    entries[0] = { ...entries[0]!, channel: 'sms', body: long };
    const { rows } = await setup({ entries });
    await waitUntil(() => rows().length === 3);
    const body = rows()[0]!.querySelector<HTMLElement>('[part="body"]')!;
    expect(body.textContent).to.equal(long);
    expect(body.scrollHeight, 'nothing hidden below the last visible line').to.be.at.most(body.clientHeight + 1);
    expect(body.getBoundingClientRect().height / parseFloat(getComputedStyle(body).lineHeight)).to.be.greaterThan(10);
  });

  it('says why a message failed, in plain words, when the server gives a reason', async () => {
    const [failed, undelivered, delivered] = makeEntries(3).map((e) => ({ ...e, channel: 'sms' as const }));
    const entries = [
      { ...failed!, status: 'failed' as const, errorCode: '21211', errorReason: 'The number is not a valid phone number.' },
      { ...undelivered!, status: 'undelivered' as const, errorCode: '30003', errorReason: null },
      { ...delivered!, status: 'delivered' as const, errorReason: 'stale text' },
    ];
    const { rows } = await setup({ entries });
    await waitUntil(() => rows().length === 3);
    const reason = (row: HTMLElement) => row.querySelector('[part="reason"]')?.textContent?.trim() ?? null;
    expect(reason(rows()[0]!)).to.equal('The number is not a valid phone number.');
    expect(reason(rows()[1]!), 'no reason given, none shown').to.be.null;
    expect(reason(rows()[2]!), 'only failures show a reason').to.be.null;
  });

  it('shows the number or address each entry went to or came from', async () => {
    const [outbound, inbound, email, none] = makeEntries(4);
    const entries = [
      { ...outbound!, channel: 'sms' as const, direction: 'outbound' as const, contact: '+61491570006' },
      { ...inbound!, channel: 'sms' as const, direction: 'inbound' as const, status: 'received' as const, contact: '+61491570156' },
      { ...email!, channel: 'email' as const, direction: 'outbound' as const, contact: 'aroha@example.org' },
      { ...none!, channel: 'video' as const, direction: 'outbound' as const, contact: null },
    ];
    const { el, rows, text } = await setup({ entries });
    await waitUntil(() => rows().length === 4);
    const contact = (row: HTMLElement) => row.querySelector('[part="contact"]')?.textContent ?? null;
    expect(contact(rows()[0]!)).to.equal('To +61491570006');
    expect(contact(rows()[1]!)).to.equal('From +61491570156');
    expect(contact(rows()[2]!)).to.equal('To aroha@example.org');
    expect(contact(rows()[3]!), 'no contact, nothing shown').to.be.null;
    expect(text(rows()[3]!)).to.not.match(/\b(To|From)\b/);
    // Part of the row's own text, so a screen reader reads it with the entry.
    expect(text(rows()[1]!)).to.match(/Inbound From \+61491570156 Received/);
    await expect(el).to.be.accessible();
  });

  it('renders a contact as text, never HTML', async () => {
    const hostile = '<img src=x onerror="window.__careHostile=1">';
    const { rows } = await setup({ entries: [{ ...makeEntries(1)[0]!, direction: 'outbound', contact: hostile }] });
    await waitUntil(() => rows().length === 1);
    const contact = rows()[0]!.querySelector('[part="contact"]')!;
    expect(contact.textContent).to.equal(`To ${hostile}`);
    expect(contact.querySelector('img')).to.be.null;
    expect((window as { __careHostile?: number }).__careHostile).to.be.undefined;
  });

  it('keeps a row’s meta on one line at 1280 px, and wraps a long email address on a 400 px screen', async () => {
    // No hyphen or space: nothing to break at but the rule that lets it wrap anywhere.
    const long = 'eleanor.whitfieldhargreaves.afterhourscontact@verylongsubdomain.examplehealthnetwork.org';
    const [sms, email] = makeEntries(2);
    const entries = [
      { ...sms!, channel: 'sms' as const, direction: 'outbound' as const, contact: '+61491570006' },
      { ...email!, channel: 'email' as const, direction: 'outbound' as const, contact: long },
    ];
    const { el, rows } = await setup({ entries });
    await waitUntil(() => rows().length === 2);
    const meta = rows()[0]!.querySelector('.meta')!;
    const tops = [...meta.children].map((child) => Math.round(child.getBoundingClientRect().top + child.getBoundingClientRect().height / 2));
    expect(new Set(tops).size, 'badge, name, direction, contact, status and time share one line').to.equal(1);

    await setViewport({ width: 400, height: 700 });
    await waitUntil(() => el.getBoundingClientRect().width <= 400, 'narrow layout');
    const row = rows()[1]!;
    const contact = row.querySelector<HTMLElement>('[part="contact"]')!;
    expect(contact.textContent).to.equal(`To ${long}`, 'shown in full, wrapped rather than cut');
    expect(contact.getBoundingClientRect().right).to.be.at.most(row.getBoundingClientRect().right);
    expect(contact.getBoundingClientRect().height, 'wrapped onto several lines').to.be.above(30);
    expect(row.scrollWidth).to.be.at.most(row.clientWidth);
    expect(el.scrollWidth).to.be.at.most(el.clientWidth);
    expect(document.documentElement.scrollWidth).to.be.at.most(400);
  });

  it('gives each channel its own colour: SMS green, Email blue, Voice purple, Video pink, in light and dark', async () => {
    // One entry per channel.
    const { el, rows } = await setup({ entries: makeEntries(4) });
    await waitUntil(() => rows().length === 4);
    /** Hue in degrees and saturation (0–1) of a computed `rgb()` colour. */
    const hsl = (color: string) => {
      const [r, g, b] = color.match(/[\d.]+/g)!.slice(0, 3).map((v) => Number(v) / 255) as [number, number, number];
      const max = Math.max(r, g, b);
      const min = Math.min(r, g, b);
      const d = max - min;
      const l = (max + min) / 2;
      const saturation = d === 0 ? 0 : d / (1 - Math.abs(2 * l - 1));
      const h = d === 0 ? 0 : max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
      return { hue: (h * 60 + 360) % 360, saturation };
    };
    // Hue ranges, by the badge's own label: green, blue, purple, pink.
    const hues: Record<string, [number, number]> = { SMS: [100, 160], Email: [200, 250], Voice: [260, 290], Video: [310, 350] };
    const badges = rows().map((row) => row.querySelector<HTMLElement>('[part="badge"]')!);
    expect(badges.map((b) => b.textContent!.trim()).sort()).to.deep.equal(Object.keys(hues).sort());
    const seen = new Set<string>();
    for (const scheme of ['light', 'dark']) {
      el.parentElement!.style.colorScheme = scheme;
      for (const badge of badges) {
        const label = badge.textContent!.trim();
        const [low, high] = hues[label]!;
        const style = getComputedStyle(badge);
        for (const [what, color] of [['text', style.color], ['background', style.backgroundColor]] as const) {
          seen.add(color);
          const { hue, saturation } = hsl(color);
          expect(hue, `${scheme} ${label} badge ${what} ${color}: hue`).to.be.within(low, high);
          expect(saturation, `${scheme} ${label} badge ${what} ${color}: a colour, not a grey`).to.be.above(0.3);
        }
      }
    }
    expect(seen.size, 'the dark scheme has colours of its own').to.equal(16);
  });

  it('shows patient names when it spans several patients', async () => {
    const { rows, text } = await setup();
    await waitUntil(() => rows()[0] && text(rows()[0]!).includes('Aroha Ngata'), 'name resolved');
  });

  it('filters by channel with the keyboard, asking the server', async () => {
    const { server, el, rows } = await setup();
    await waitUntil(() => rows().length === 12);
    const radios = [...el.shadowRoot!.querySelectorAll<HTMLInputElement>('input[type="radio"]')];
    expect(radios.map((r) => r.parentElement!.textContent!.trim())).to.deep.equal(['All', 'SMS', 'Email', 'Voice', 'Video']);
    radios[0]!.focus();
    await sendKeys({ press: 'ArrowRight' });
    await waitUntil(() => rows().length === 3, 'only SMS rows');
    expect(el.channel).to.equal('sms');
    expect(server.requestsTo('/api/v1/correspondence').at(-1)!.url.searchParams.get('channel')).to.equal('sms');
    expect(rows().every((r) => r.querySelector('.badge.sms'))).to.be.true;

    await sendKeys({ press: 'ArrowRight' });
    await waitUntil(() => rows().length === 3 && rows().every((r) => r.querySelector('.badge.email')), 'email rows');
  });

  it('shows only one patient’s history when given patient-id', async () => {
    const { server, rows, text } = await setup({}, { patientId: 'pat-2' });
    await waitUntil(() => rows().length > 0);
    expect(server.requestsTo('/api/v1/correspondence')[0]!.url.searchParams.get('patientId')).to.equal('pat-2');
    expect(text(rows()[0]!)).to.not.contain('Ben Carter');
  });

  it('inserts new entries and applies status updates live', async () => {
    const { server, el, rows, text } = await setup();
    await waitUntil(() => rows().length === 12 && server.listeners === 1, 'loaded and subscribed');
    const entry = server.receive({ body: 'Running 10 minutes late' });
    await waitUntil(() => rows().length === 13, 'live entry inserted');
    expect(text(rows()[0]!)).to.contain('Running 10 minutes late');
    expect(text(rows()[0]!)).to.contain('Inbound');
    expect(el.shadowRoot!.querySelector('[aria-live="polite"]')!.textContent).to.equal('New SMS received');

    server.emit('correspondence.updated', { ...rows().length && server.entries[1]!, status: 'failed', updatedAt: new Date().toISOString() });
    await waitUntil(() => text(rows()[1]!).includes('Failed'), 'status updated');

    server.emit('correspondence.created', { ...entry, id: 'other', channel: 'email' });
    el.channel = 'sms';
    await waitUntil(() => rows().length === 4, 'filtered reload keeps the live entry');
    server.emit('correspondence.created', { ...entry, id: 'email-live', channel: 'email' });
    await aTimeout(100);
    expect(rows().length, 'entries outside the filter are not inserted').to.equal(4);
  });

  it('loads the next page with the keyset cursor as you scroll', async () => {
    const { server, el, rows } = await setup({ entries: makeEntries(200) }, { pageSize: 40 });
    await waitUntil(() => rows().length > 0);
    const scroller = el.parentElement!;
    await waitUntil(
      () => {
        scroller.scrollBy(0, 500);
        return server.requestsTo('/api/v1/correspondence').length >= 3;
      },
      'two more pages requested',
      { interval: 100, timeout: 6000 },
    );
    const cursors = server.requestsTo('/api/v1/correspondence').map((r) => r.url.searchParams.get('cursor'));
    expect(cursors.slice(0, 3)).to.deep.equal([null, '40', '80']);
  });

  /**
   * Messages of a few lines: rows taller than the size the list assumes for rows not yet laid out. A jump
   * to the bottom then lands on the last rows without laying out, or passing, the ones before them.
   */
  const messages = (count: number, patientId?: string) =>
    makeEntries(count).map((e) => ({
      ...e,
      ...(patientId ? { patientId, patientName: 'Aroha Ngata' } : {}),
      channel: 'sms' as const,
      status: 'delivered' as const,
      body: 'Your blood test results are back and look normal, so there is no need to come in. '.repeat(4),
    }));

  it('loads every page when the reader jumps straight to the bottom (the scrollbar thumb, End), showing that it loads', async () => {
    const { server, el, rows } = await setup({ entries: messages(100) }, { pageSize: 30 });
    await waitUntil(() => rows().length === 30, 'first page');
    const scroller = el.parentElement!;
    const cursors = () => server.requestsTo('/api/v1/correspondence').map((r) => r.url.searchParams.get('cursor'));
    const inView = (element: Element) => {
      const view = scroller.getBoundingClientRect();
      const box = element.getBoundingClientRect();
      return box.bottom > view.top && box.top < view.bottom;
    };
    const loading = () => el.shadowRoot!.querySelector('.footer-state[role="status"]');
    // Each page is held back, so what the reader sees while it loads can be read.
    server.options = { latencyMs: 1000 };
    for (const [cursor, loaded] of [['30', 60], ['60', 90], ['90', 100]] as const) {
      // One jump, over every row between: none of them comes into view on the way.
      scroller.scrollTop = scroller.scrollHeight;
      await waitUntil(() => cursors().includes(cursor), `page from ${cursor} requested after a jump to the bottom`, { timeout: 3000 });
      await waitUntil(() => loading()?.textContent === 'Loading more…', 'loading shown');
      // At the bottom while it loads, the reader sees that more is on its way.
      scroller.scrollTop = scroller.scrollHeight;
      await aTimeout(50);
      expect(loading() && inView(loading()!), `Loading more… in view at the bottom while the page from ${cursor} loads`).to.be.true;
      await waitUntil(() => rows().length === loaded, `${loaded} rows loaded`, { timeout: 3000 });
    }
    scroller.scrollTop = scroller.scrollHeight;
    await aTimeout(300);
    expect(cursors(), 'every page asked for once').to.deep.equal([null, '30', '60', '90']);
    const last = rows().at(-1)!;
    expect(last.getAttribute('aria-posinset')).to.equal('100');
    expect(last.getAttribute('aria-setsize'), 'the end of the history').to.equal('100');
    expect(inView(last), 'the oldest entry in view at the bottom').to.be.true;
    expect(loading()).to.be.null;
  });

  it('one patient’s 32 entries: a jump to the bottom loads the last 2, and a page that fails says so and retries', async () => {
    const { server, el, rows } = await setup({ entries: messages(32, 'pat-1') }, { patientId: 'pat-1' });
    await waitUntil(() => rows().length === 30, 'first page');
    server.options = { failures: { 'GET /api/v1/correspondence': 500 } };
    el.parentElement!.scrollTop = el.parentElement!.scrollHeight;
    const alert = () => el.shadowRoot!.querySelector<HTMLElement>('.footer-state[role="alert"]');
    await waitUntil(alert, 'the failed page is reported', { timeout: 3000 });
    expect(alert()!.textContent).to.contain('More correspondence could not be loaded.');
    expect(server.requestsTo('/api/v1/correspondence').map((r) => r.url.searchParams.get('cursor'))).to.deep.equal([null, '30']);
    await expect(el).to.be.accessible();
    server.options = {};
    alert()!.querySelector('button')!.click();
    await waitUntil(() => rows().length === 32, 'the retry loads the rest', { timeout: 3000 });
    expect(alert()).to.be.null;
    expect(rows().at(-1)!.getAttribute('aria-posinset')).to.equal('32');
    expect(rows().at(-1)!.getAttribute('aria-setsize')).to.equal('32');
  });

  it('a short history is plain rows; past PLAIN_ROWS it hands over to the virtualizer without moving the row in view', async () => {
    const { server, el, rows } = await setup({ entries: makeEntries(400) }, { pageSize: 45 });
    await waitUntil(() => rows().length === 45, 'first page: every row in the DOM');
    const scroller = el.parentElement!;
    const topRow = () => {
      const top = scroller.getBoundingClientRect().top;
      return rows().find((r) => r.getBoundingClientRect().bottom > top + 1);
    };
    // Scroll in steps, as a reader does, until the second page is in and the first is well out of view.
    await waitUntil(
      () => {
        if (rows().length < PLAIN_ROWS) scroller.scrollBy(0, 300);
        return rows().length >= 90;
      },
      'second page rendered as plain rows',
      { interval: 100, timeout: 6000 },
    );
    expect(rows().length, 'plain: one DOM row per entry').to.equal(90);
    expect(server.requestsTo('/api/v1/correspondence').map((r) => r.url.searchParams.get('cursor'))).to.deep.equal([null, '45']);
    // The third page takes the list past PLAIN_ROWS: the virtualizer takes over when it lands. It is held back
    // half a second so the row in view can be read once the reader has stopped scrolling.
    server.options = { ...server.options, latencyMs: 500 };
    await waitUntil(
      () => {
        if (server.requestsTo('/api/v1/correspondence').length >= 3) return true;
        scroller.scrollBy(0, 100);
        return false;
      },
      'third page requested',
      { interval: 50, timeout: 6000 },
    );
    const before = Number(topRow()!.getAttribute('aria-posinset'));
    expect(before, 'scrolled well into the history').to.be.above(20);
    // The virtualizer's host sizes itself for the rows it holds (it renders them as they come into view).
    const tail = () => el.shadowRoot!.querySelector<HTMLElement>('.tail');
    await waitUntil(() => (tail()?.offsetHeight ?? 0) > 1000, 'rows past PLAIN_ROWS handed to the virtualizer', { timeout: 6000 });
    await aTimeout(100);
    expect(Number(topRow()!.getAttribute('aria-posinset')), 'the row in view did not move').to.equal(before);
    // On to the end of 400: the virtualizer keeps the DOM small.
    server.options = {};
    await waitUntil(
      () => {
        scroller.scrollBy(0, 2000);
        return server.requestsTo('/api/v1/correspondence').length >= 9;
      },
      'every page requested',
      { interval: 100, timeout: 10000 },
    );
    await waitUntil(
      () => {
        // The last page may land after the last scroll: keep going to the end.
        scroller.scrollTop = scroller.scrollHeight;
        return rows().some((r) => r.getAttribute('aria-posinset') === '400');
      },
      'the last row reached',
      { interval: 100, timeout: 10000 },
    );
    expect(rows().length, 'virtualised: far fewer rows in the DOM than loaded').to.be.below(PLAIN_ROWS + 60);
    await expect(el).to.be.accessible();
  });

  it('shows a loading state', async () => {
    const { el } = await setup({ hang: ['GET /api/v1/correspondence'] });
    expect(el.shadowRoot!.querySelector('[role="status"]')!.textContent).to.equal('Loading correspondence…');
    await expect(el).to.be.accessible();
  });

  it('shows an empty state', async () => {
    const { el } = await setup({ entries: [] });
    await waitUntil(() => el.shadowRoot!.querySelector('.state p'));
    expect(el.shadowRoot!.querySelector('.state p')!.textContent!.trim()).to.equal('No correspondence yet.');
    await expect(el).to.be.accessible();
  });

  it('shows an error state with a working retry', async () => {
    const { server, el, rows } = await setup({ failures: { 'GET /api/v1/correspondence': 500 } });
    await waitUntil(() => el.shadowRoot!.querySelector('[role="alert"]'));
    const alert = el.shadowRoot!.querySelector('[role="alert"]')!;
    expect(alert.textContent).to.contain('Correspondence could not be loaded.');
    await expect(el).to.be.accessible();
    server.options = {};
    alert.querySelector('button')!.click();
    await waitUntil(() => rows().length > 0, 'retry loads');
    expect(el.shadowRoot!.querySelector('[role="alert"]')).to.be.null;
  });

  it('says a patient not found or not shared with the practitioner is so, with no Try again that could not help', async () => {
    const { el, server, rows } = await setup({ failures: { 'GET /api/v1/correspondence': 404 } });
    await waitUntil(() => el.shadowRoot!.querySelector('[role="alert"]'));
    const alert = el.shadowRoot!.querySelector('[role="alert"]')!;
    expect(alert.textContent).to.contain('This patient was not found, or is not shared with you.');
    expect(alert.textContent).not.to.contain('could not be loaded');
    expect(alert.querySelector('button'), 'nothing to retry').to.be.null;
    await expect(el).to.be.accessible();
    // Another patient's chart, shared this time, loads as usual.
    server.options = {};
    el.patientId = 'pat-2';
    await waitUntil(() => rows().length > 0 && !el.shadowRoot!.querySelector('[role="alert"]'), 'the next chart loads');
  });

  it('fits a phone screen without sideways scrolling', async () => {
    await setViewport({ width: 375, height: 700 });
    const { el, rows } = await setup();
    await waitUntil(() => rows().length > 0);
    expect(el.scrollWidth).to.be.at.most(el.clientWidth);
    expect(document.documentElement.scrollWidth).to.be.at.most(375);
  });

  it('shows call notes, and plays a recorded call inline from a short-lived link', async () => {
    const server = new FakeServer({ entries: [] });
    const started = await server.client().calls.start('pat-1');
    const [recorded] = makeEntries(1);
    server.entries = [
      {
        ...recorded!,
        id: started.correspondenceId,
        channel: 'voice',
        status: 'completed',
        body: null,
        durationSeconds: 184,
        hasRecording: true,
        notes: 'Discussed dosage <b>not bold</b>',
        session: { callId: started.id },
      },
    ];
    const el = await fixture<CareCorrespondenceList>(html`<care-correspondence-list .client=${server.client()}></care-correspondence-list>`);
    const row = () => el.shadowRoot!.querySelector<HTMLElement>('[role="listitem"]');
    await waitUntil(() => row(), 'row rendered');
    const notes = row()!.querySelector('[part="notes"]')!;
    expect(notes.textContent).to.equal('Notes: Discussed dosage <b>not bold</b>');
    expect(notes.querySelector('b')).to.be.null;
    expect(row()!.textContent).to.contain('Duration 3:04');
    const play = row()!.querySelector<HTMLButtonElement>('[part="recording-button"]')!;
    expect(play.textContent!.trim()).to.equal('Play recording');
    await expect(el).to.be.accessible();
    play.click();
    await waitUntil(() => row()!.querySelector('audio'), 'player shown');
    const audio = row()!.querySelector('audio')!;
    expect(audio.getAttribute('src')).to.equal(`https://carecomms.test/api/v1/calls/${started.id}/recording?access=test-access`);
    expect(audio.controls).to.be.true;
    expect(audio.getAttribute('aria-label')).to.equal('Call recording');
    expect(server.requestsTo(`/api/v1/calls/${started.id}/recording/link`)).to.have.length(1);
  });

  it('says when a recording cannot be loaded, and lets the practitioner retry', async () => {
    const server = new FakeServer({ entries: [] });
    const started = await server.client().calls.start('pat-1');
    server.entries = [{ ...makeEntries(1)[0]!, channel: 'voice', status: 'completed', body: null, hasRecording: true, session: { callId: started.id } }];
    server.options = { failures: { [`POST /api/v1/calls/${started.id}/recording/link`]: 500 } };
    const el = await fixture<CareCorrespondenceList>(html`<care-correspondence-list .client=${server.client()}></care-correspondence-list>`);
    const button = () => el.shadowRoot!.querySelector<HTMLButtonElement>('[part="recording-button"]');
    await waitUntil(() => button(), 'row rendered');
    button()!.click();
    await waitUntil(() => button()?.textContent?.includes('Recording unavailable'), 'failure shown');
    server.options = {};
    button()!.click();
    await waitUntil(() => el.shadowRoot!.querySelector('audio'), 'player shown on retry');
  });
});
