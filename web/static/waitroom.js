// @ts-check
/**
 * The waiting room of the join page, as the waiting person sees it
 * (docs/protocol.md, "The waiting room"): why they wait, the session's
 * title and time, the hosts' messages, their own preview with the
 * microphone and camera switches, and Leave. No media flows while it
 * shows: protocol.js opens the peer connections only once admitted.
 *
 * @module waitroom
 */

import { t } from './i18n.js';
import { $, el } from './dom.js';
import { client, formatTime, roleLabel, showView, state } from './page.js';
import { renderAllTiles, renderControls, updateGridLayout } from './call.js';

/** Reasons to wait that the page has words for; others read as the waiting room. */
const REASONS = ['waiting_room', 'locked', 'host_absent', 'removed'];

/**
 * Shows the call when admitted, the waiting room otherwise. Called after
 * joining and after every change between the two.
 */
export function enterRoom() {
  if (client.admitted) {
    state.waitingReason = '';
    showView('call');
    updateGridLayout();
    renderAllTiles();
    renderControls();
    return;
  }
  state.waitingReason ||= client.waitingReason || 'waiting_room';
  showView('waiting');
  renderWaiting();
  renderControls();
  attachWaitingPreview();
}

/**
 * The server put this person in the waiting room, or said why.
 * @param {string} reason
 */
export function onWaiting(reason) {
  state.waitingReason = reason;
  enterRoom();
}

/**
 * A host's message to this waiting person.
 * @param {{from: {name?: string}, text: string}} notice
 */
export function onNotice({ from, text }) {
  state.notices.push({ from: typeof from?.name === 'string' ? from.name : '', text, at: new Date() });
  renderNotices();
}

/** Forgets the notices of an earlier wait (a new join). */
export function clearNotices() {
  state.notices = [];
  renderNotices();
}

/** Fills the waiting view's texts; again after a language change. */
export function renderWaiting() {
  const reason = REASONS.includes(state.waitingReason) ? state.waitingReason : 'waiting_room';
  $('waiting-title').textContent = t(`waiting.title.${reason}`);
  const detail = $('waiting-reason');
  detail.textContent = t(`waiting.reason.${reason}`);
  detail.dataset.reason = reason;
  const session = state.info?.session;
  $('waiting-session').textContent = session?.title ?? '';
  const start = session?.scheduled_start ? new Date(session.scheduled_start) : null;
  const when = start && !Number.isNaN(start.getTime()) ? formatTime(start) : '';
  $('waiting-time').textContent = when ? t('waiting.scheduled', { time: when }) : '';
  $('waiting-time').hidden = !when;
  const self = state.self ?? state.info?.participant;
  $('waiting-you').textContent = self ? `${self.name} · ${roleLabel(self.role)}` : '';
  renderNotices();
}

function renderNotices() {
  const list = $('notices');
  list.replaceChildren();
  for (const n of state.notices) {
    const item = el('li', 'notice', { 'data-testid': 'notice' });
    const meta = el('p', 'notice-meta');
    const time = el('time', '', { datetime: n.at.toISOString() });
    time.textContent = n.at.toLocaleTimeString(document.documentElement.lang || undefined, { hour: '2-digit', minute: '2-digit' });
    meta.append(t('notice.from', { name: n.from || t('notice.host') }), ' · ', time);
    const text = el('p', 'notice-text', { 'data-testid': 'notice-text' });
    text.textContent = n.text; // as text, never as HTML
    item.append(meta, text);
    list.append(item);
  }
  $('notices-box').hidden = state.notices.length === 0;
}

/** Shows the local camera in the waiting view. */
function attachWaitingPreview() {
  const video = /** @type {HTMLVideoElement} */ ($('waiting-preview'));
  if (video.srcObject !== state.stream) video.srcObject = state.stream;
  const hasVideo = (state.stream?.getVideoTracks() ?? []).some((tr) => tr.readyState === 'live' && tr.enabled);
  video.classList.toggle('no-video', !hasVideo);
  video.play().catch(() => {});
}

/** After the microphone or camera switch changed in the waiting view. */
export function renderWaitingMedia() {
  if (state.view === 'waiting') attachWaitingPreview();
}
