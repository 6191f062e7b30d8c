// @ts-check
/**
 * The notary's journal on the case page (docs/api.md, "Notary's
 * journal"): for a session of a notarization case, the entries written so
 * far, each with its SHA-256, its timestamp and the chain of corrections,
 * and the form the notary (or an admin) writes an entry with. An entry is
 * never changed: a correction is a new entry naming the entry it corrects
 * and why.
 *
 * @module staff-journal
 */

import { t } from './i18n.js';
import { announce, errorBox, field, h, loadingView, showError } from './staff-dom.js';
import { api, formatTime, handleError, state } from './staff-common.js';

/** @typedef {import('./api.js').Session} Session */

/**
 * @typedef {{id: string, account_id: string, created_at: string, corrects?: string, corrected_by?: string,
 *   current: boolean, sha256: string, timestamp?: string, entry: any, canonical: string}} JournalEntry
 * @typedef {{session_id: string, entries: JournalEntry[], parties: {id: string, name: string, role: string}[],
 *   documents: {id: string, presented: string, name: string, sha256: string, mismatch: boolean}[]}} Journal
 */

/** Groups a hex digest in fours, to read. @param {string} hex */
function grouped(hex) {
  return (hex.match(/.{1,4}/g) ?? []).join(' ');
}

/**
 * The journal of a session of a notarization case: loaded when drawn.
 * @param {Session} s
 */
export function journalBox(s) {
  const box = h('section', { class: 'journal-box', 'data-testid': 'journal', 'data-session-id': s.id },
    h('h4', { text: t('staff.journal.title') }), loadingView());
  load(box, s);
  return box;
}

/** @param {HTMLElement} box @param {Session} s */
async function load(box, s) {
  try {
    /** @type {Journal} */
    const j = await api.request('GET', `/api/v1/sessions/${encodeURIComponent(s.id)}/journal`);
    draw(box, s, j);
  } catch (err) {
    const e = errorBox('journal-error');
    box.replaceChildren(h('h4', { text: t('staff.journal.title') }), e);
    handleError(err, e);
  }
}

/** @param {HTMLElement} box @param {Session} s @param {Journal} j */
function draw(box, s, j) {
  const role = state.account?.role ?? '';
  const mayWrite = role === 'notary' || role === 'admin';
  box.replaceChildren(
    h('h4', { text: t('staff.journal.title') }),
    j.documents.length
      ? h('ul', { class: 'journal-docs', 'data-testid': 'journal-documents' }, j.documents.map((d) => h('li', {},
        h('span', { text: `${t(d.presented === 'signing' ? 'staff.journal.signed' : 'staff.journal.shown')} ${d.name} ` }),
        h('code', { class: 'mono', text: grouped(d.sha256) }),
        d.mismatch ? h('strong', { class: 'error-text', text: ` ${t('staff.journal.mismatch')}` }) : null)))
      : h('p', { class: 'muted', text: t('staff.journal.noDocuments') }),
    j.entries.length
      ? h('ol', { class: 'journal-entries', 'data-testid': 'journal-entries' }, j.entries.map(entryItem))
      : h('p', { class: 'muted empty', 'data-testid': 'journal-empty', text: t('staff.journal.none') }),
    mayWrite ? form(box, s, j) : null);
}

/** @param {JournalEntry} e */
function entryItem(e) {
  const b = e.entry ?? {};
  return h('li', { class: `journal-entry${e.current ? '' : ' is-corrected'}`, 'data-testid': 'journal-entry', 'data-id': e.id, 'data-current': String(e.current) },
    h('p', {}, h('strong', { text: b.act ?? '' }), ' · ', h('time', { datetime: e.created_at, text: formatTime(e.created_at) }),
      b.notary?.name ? ` · ${b.notary.name}` : ''),
    h('dl', { class: 'details' },
      h('dt', { text: t('staff.journal.parties') }), h('dd', { text: (b.parties ?? []).map((/** @type {any} */ p) => p.name).join(', ') || '—' }),
      h('dt', { text: t('staff.journal.identity') }), h('dd', { text: b.identity_method ?? '' }),
      h('dt', { text: t('staff.journal.location') }), h('dd', { text: b.location ?? '' }),
      h('dt', { text: t('staff.journal.fee') }), h('dd', { text: b.fee || '—' }),
      h('dt', { text: t('staff.journal.remarks') }), h('dd', { text: b.remarks || '—' }),
      e.corrects ? [h('dt', { text: t('staff.journal.corrects') }), h('dd', { text: `${e.corrects.slice(0, 12)}… · ${b.reason ?? ''}` })] : null,
      h('dt', { text: 'SHA-256' }), h('dd', {}, h('code', { class: 'mono', 'data-testid': 'journal-sha256', text: grouped(e.sha256) })),
      h('dt', { text: t('staff.journal.timestamp') }), h('dd', { text: e.timestamp ? t('staff.journal.timestamped') : t('staff.journal.notTimestamped') })),
    e.current ? null : h('p', { class: 'muted', text: t('staff.journal.correctedBy', { id: `${(e.corrected_by ?? '').slice(0, 12)}…` }) }));
}

/** The form of a new entry (or of a correction of the current one). @param {HTMLElement} box @param {Session} s @param {Journal} j */
function form(box, s, j) {
  const current = [...j.entries].reverse().find((e) => e.current);
  /** @param {string} name @param {number} max @param {boolean} [area] */
  const input = (name, max, area = false) => /** @type {HTMLInputElement} */ (h(area ? 'textarea' : 'input',
    { name, maxlength: max, 'data-testid': `journal-${name}`, ...(area ? { rows: 3 } : { type: 'text', autocomplete: 'off' }) }));
  const act = input('act', 200);
  const identity = input('identity_method', 200);
  const location = input('location', 200);
  const fee = input('fee', 200);
  const remarks = input('remarks', 4000, true);
  const reason = input('reason', 4000, true);
  const last = current?.entry;
  act.value = last?.act ?? t('staff.journal.defaultAct');
  identity.value = last?.identity_method ?? '';
  location.value = last?.location ?? '';
  fee.value = last?.fee ?? '';
  remarks.value = last?.remarks ?? '';
  const reasonField = field(t('staff.journal.reason'), reason, t('staff.journal.reasonHint'));
  reasonField.hidden = !current;
  const submit = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'journal-submit',
    text: t(current ? 'staff.journal.correct' : 'staff.journal.write') }));
  const error = errorBox('journal-form-error');
  const f = /** @type {HTMLFormElement} */ (h('form', { class: 'journal-form', 'data-testid': 'journal-form' },
    h('fieldset', {},
      h('legend', { text: t(current ? 'staff.journal.correctTitle' : 'staff.journal.writeTitle') }),
      h('p', { class: 'hint', text: t('staff.journal.immutable') }),
      h('div', { class: 'form-row' },
        field(t('staff.journal.act'), act),
        field(t('staff.journal.identity'), identity),
        field(t('staff.journal.location'), location),
        field(t('staff.journal.fee'), fee)),
      field(t('staff.journal.remarks'), remarks),
      reasonField,
      h('div', { class: 'actions' }, submit),
      error)));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError(error, '');
    submit.disabled = true;
    try {
      /** @type {Record<string, string>} */
      const body = { act: act.value.trim(), identity_method: identity.value.trim(), location: location.value.trim(),
        fee: fee.value.trim(), remarks: remarks.value.trim() };
      if (current) {
        body.corrects = current.id;
        body.reason = reason.value.trim();
      }
      await api.request('POST', `/api/v1/sessions/${encodeURIComponent(s.id)}/journal`, body);
      announce(t('staff.journal.saved'));
      await load(box, s);
    } catch (err) {
      handleError(err, error);
      submit.disabled = false;
    }
  });
  return f;
}
