// The host page's side of an integration: mint a session (here via the demo
// endpoint; a real EHR's backend calls POST /api/v1/sessions with its API key),
// hand the token to <care-comms>, and tell it which patient is open.

const comms = document.getElementById('comms');
const practitionerSelect = document.getElementById('practitioner-select');
const patientSelect = document.getElementById('patient-select');
const demoError = document.getElementById('demo-error');

const STORAGE_KEY = 'carecomms-demo-practitioner';
let token = '';

function showError(message) {
  demoError.textContent = message;
  demoError.hidden = !message;
}

async function mintToken(practitioner) {
  const response = await fetch('/demo/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ practitioner }),
  });
  if (!response.ok) throw new Error(`Demo sign-in failed (${response.status}). Is the server running with DEMO=1?`);
  return (await response.json()).token;
}

async function loadPatients() {
  const patients = [];
  let cursor = null;
  do {
    const url = new URL('/api/v1/patients', location.origin);
    url.searchParams.set('limit', '100');
    if (cursor) url.searchParams.set('cursor', cursor);
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`Patients could not be loaded (${response.status}).`);
    const page = await response.json();
    patients.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && patients.length < 500);
  return patients;
}

/** An obviously fictional date of birth for the banner, the same for a patient's record number on every fresh demo database. */
function demoDob(key) {
  let hash = 0;
  for (const ch of key) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const date = new Date(Date.UTC(1950 + (hash % 55), (hash >> 8) % 12, 1 + ((hash >> 12) % 28)));
  return date.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
}

/** Fictional allergies for the banner, by the demo patients' record numbers; the others have none on file. */
const DEMO_ALLERGIES = { 'MRN-100231': 'Penicillin', 'MRN-100284': 'Latex', 'MRN-100297': 'Sulfonamides' };

function showPatient(patient) {
  const text = (id, value) => (document.getElementById(id).textContent = value);
  if (!patient) {
    text('patient-name', 'All patients');
    text('patient-initials', '∗');
    for (const id of ['patient-mrn', 'patient-dob', 'patient-phone', 'patient-email']) text(id, '–');
    // No one patient's alerts when the page shows everyone's history.
    document.getElementById('patient-allergy').hidden = true;
    document.getElementById('patient-opted-out').hidden = true;
    comms.removeAttribute('patient-id');
    document.title = 'All patients · Meridian EHR (CareComms demo)';
    return;
  }
  text('patient-name', patient.name);
  text('patient-initials', patient.name.split(/\s+/).map((part) => part[0]).slice(0, 2).join(''));
  text('patient-mrn', patient.externalId);
  text('patient-dob', demoDob(patient.externalId ?? patient.id));
  text('patient-phone', patient.phoneDisplay ?? 'None on file');
  text('patient-email', patient.email ?? 'None on file');
  const allergy = DEMO_ALLERGIES[patient.externalId] ?? null;
  text('patient-allergy', `Allergy: ${allergy}`);
  document.getElementById('patient-allergy').hidden = !allergy;
  document.getElementById('patient-opted-out').hidden = !patient.optedOut;
  comms.setAttribute('patient-id', patient.id);
  document.title = `${patient.name} · Meridian EHR (CareComms demo)`;
}

/** Fills the patient switcher and shows the patient chosen in it (the first, when `pickFirst` and it was empty). */
function showPatients(patients, pickFirst) {
  const previous = patientSelect.value;
  patientSelect.replaceChildren(
    new Option('All patients', ''),
    ...patients.map((p) => new Option(p.optedOut ? `${p.name} (SMS opted out)` : p.name, p.id)),
  );
  patientSelect.disabled = false;
  const keep = patients.find((p) => p.id === previous);
  const chosen = keep ?? (pickFirst || previous ? patients[0] : null) ?? null;
  patientSelect.value = chosen?.id ?? '';
  patientSelect.onchange = () => showPatient(patients.find((p) => p.id === patientSelect.value) ?? null);
  showPatient(chosen);
}

/**
 * Back on the chart (e.g. from the patient's phone in another tab): the EHR
 * reloads its patients, so a STOP or START texted meanwhile shows in the banner.
 */
async function refreshPatients() {
  if (!token || document.visibilityState !== 'visible') return;
  try {
    showPatients(await loadPatients(), false);
  } catch (error) {
    console.warn('Demo EHR: patients could not be reloaded', error);
  }
}

async function signIn(practitioner) {
  showError('');
  practitionerSelect.disabled = true;
  try {
    token = await mintToken(practitioner);
    localStorage.setItem(STORAGE_KEY, practitioner);
    // The new practitioner may not see the patient on screen: the widget waits for the patient chosen below.
    comms.removeAttribute('patient-id');
    comms.setAttribute('base-url', location.origin);
    comms.setAttribute('token', token);
    showPatients(await loadPatients(), true);
  } catch (error) {
    showError(error.message);
  } finally {
    practitionerSelect.disabled = false;
  }
}

function setUpTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab) => {
    for (const t of tabs) {
      const selected = t === tab;
      t.setAttribute('aria-selected', String(selected));
      t.tabIndex = selected ? 0 : -1;
      document.getElementById(t.getAttribute('aria-controls')).hidden = !selected;
    }
    tab.focus();
  };
  for (const tab of tabs) {
    tab.addEventListener('click', () => select(tab));
    tab.addEventListener('keydown', (event) => {
      const index = tabs.indexOf(tab);
      const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      select(tabs[(next + tabs.length) % tabs.length]);
    });
  }
  // On a phone the strip scrolls sideways: show the open tab (Communications, the last), not just the first ones.
  const current = tabs.find((t) => t.getAttribute('aria-selected') === 'true');
  const strip = current?.parentElement;
  if (strip) strip.scrollLeft += Math.max(0, current.getBoundingClientRect().right - strip.getBoundingClientRect().right);
}

setUpTabs();
practitionerSelect.value = localStorage.getItem(STORAGE_KEY) ?? 'dr-lee';
practitionerSelect.addEventListener('change', () => signIn(practitionerSelect.value));
comms.addEventListener('care-sms-sent', (event) => console.info('CareComms: SMS accepted', event.entry.id));
document.addEventListener('visibilitychange', refreshPatients);
window.addEventListener('focus', refreshPatients);
signIn(practitionerSelect.value);
