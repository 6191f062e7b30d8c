// @ts-check
/**
 * The settlement agreements of a case on its page (docs/api.md,
 * "Recordings and evidence"): each with its session, the version shared
 * and how many signed it, and once finalized the signed PDF's SHA-256 and
 * a download (audited as settlement.download).
 *
 * @module staff-settlements
 */

import { t } from './i18n.js';
import { h } from './staff-dom.js';
import { api, formatTime } from './staff-common.js';

/**
 * @typedef {{id: string, session_id: string, language: string, created_at: string, version: number,
 *   versions: number, signed: number, final?: {sha256: string, bytes: number, at: string, url: string}}} Settlement
 */

/**
 * The section, filled when the list arrives; it stays hidden for a case
 * without settlements.
 * @param {string} caseId
 */
export function settlementsSection(caseId) {
  const list = h('ul', { class: 'settlements', 'data-testid': 'settlements' });
  const section = h('section', { class: 'panel', 'aria-labelledby': 'settlements-heading', hidden: true },
    h('h2', { id: 'settlements-heading', text: t('staff.settlements.title') }), list);
  api.request('GET', `/api/v1/cases/${encodeURIComponent(caseId)}/settlements`).then((/** @type {any} */ out) => {
    /** @type {Settlement[]} */
    const items = out?.settlements ?? [];
    list.replaceChildren(...items.map(item));
    section.hidden = items.length === 0;
  }).catch(() => { section.hidden = true; });
  return section;
}

/** @param {Settlement} s */
function item(s) {
  if (!s.final) {
    return h('li', { 'data-testid': 'settlement', 'data-settlement-id': s.id },
      h('span', { text: t('staff.settlements.pending', { version: s.version, signed: s.signed }) }));
  }
  return h('li', { 'data-testid': 'settlement', 'data-settlement-id': s.id },
    h('span', { text: t('staff.settlements.final', { at: formatTime(s.final.at) }) }), ' ',
    h('a', { href: s.final.url, download: `settlement-${s.id}.pdf`, 'data-testid': 'settlement-pdf', text: t('staff.settlements.download') }),
    h('p', { class: 'muted hash', text: `SHA-256 ${s.final.sha256}` }));
}
