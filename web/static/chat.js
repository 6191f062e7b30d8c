// @ts-check
/**
 * The chat panel of the call: the messages (name, role, local time), the
 * text field (Enter sends, Shift+Enter starts a new line) and the unread
 * count of the chat button. Message texts are put in the page as text,
 * never as HTML. The server keeps every message in the session's records
 * and echoes each one to everyone, its sender included.
 *
 * @module chat
 */

import { getLanguage, t } from './i18n.js';
import { $, el } from './dom.js';
import { announce, client, errorMessage, roleLabel, state } from './page.js';
import { renderControls } from './call.js';

/** @typedef {import('./protocol.js').ChatMessage} ChatMessage */

/** Longest message, in characters (docs/protocol.md). */
export const MAX_CHAT = 2000;

/** The counter shows from this many characters on. */
const COUNT_FROM = 1800;

/** @type {string} the text last sent, restored if the server refuses it */
let lastSent = '';

/** Wires the form; once, at start. */
export function setupChat() {
  const form = /** @type {HTMLFormElement} */ ($('chat-form'));
  const input = /** @type {HTMLTextAreaElement} */ ($('chat-input'));
  input.maxLength = MAX_CHAT * 2; // UTF-16 units; the characters are counted below
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    send();
  });
  input.addEventListener('keydown', (e) => {
    // Enter sends; Shift+Enter is a new line; Enter that confirms an
    // input method's candidate (Chinese, for one) is not a send.
    if (e.key !== 'Enter' || e.shiftKey || e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    send();
  });
  // Where the key's character comes as an event of its own (keypress),
  // the Enter that sent is not also a new line.
  input.addEventListener('keypress', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) e.preventDefault();
  });
  input.addEventListener('input', renderInputState);
  renderInputState();
}

function send() {
  const input = /** @type {HTMLTextAreaElement} */ ($('chat-input'));
  const text = input.value.trim();
  if (!text || [...text].length > MAX_CHAT) return;
  if (!client.sendChat(text)) {
    showChatError(t('chat.notSent'));
    return;
  }
  lastSent = text;
  input.value = '';
  hideChatError();
  renderInputState();
  input.focus();
}

/** Enables Send and shows the counter near the limit. */
function renderInputState() {
  const input = /** @type {HTMLTextAreaElement} */ ($('chat-input'));
  const n = [...input.value].length;
  const count = $('chat-count');
  count.hidden = n < COUNT_FROM;
  count.textContent = t('chat.count', { n, max: MAX_CHAT });
  count.classList.toggle('is-over', n > MAX_CHAT);
  input.setAttribute('aria-invalid', String(n > MAX_CHAT));
  /** @type {HTMLButtonElement} */ ($('chat-send')).disabled = n > MAX_CHAT || input.value.trim() === '';
}

/**
 * Adds messages (history from `joined` or `admitted`, or one new one),
 * skipping those already shown.
 * @param {ChatMessage[]} messages
 * @param {boolean} [history] whether they are earlier messages (not unread)
 */
export function addChatMessages(messages, history = false) {
  const list = $('chat-list');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  let fresh = 0;
  /** @type {ChatMessage | null} */
  let last = null;
  for (const m of messages) {
    if (state.chat.has(m.id)) continue;
    state.chat.set(m.id, m);
    list.append(renderMessage(m));
    const own = m.from === state.self?.id;
    if (own && m.text === lastSent) lastSent = '';
    if (!own && !history) {
      fresh++;
      last = m;
    }
  }
  $('chat-empty').hidden = state.chat.size > 0;
  if (atBottom || state.panel !== 'chat') list.scrollTop = list.scrollHeight;
  if (fresh && state.panel !== 'chat') {
    state.unread += fresh;
    renderControls();
    if (last) announce(t('chat.new', { name: last.name }));
  }
}

/** Re-renders every message (after a language change). */
export function renderChat() {
  const list = $('chat-list');
  list.replaceChildren(...[...state.chat.values()].map(renderMessage));
  $('chat-empty').hidden = state.chat.size > 0;
  renderInputState();
}

/**
 * @param {ChatMessage} m
 * @returns {HTMLElement}
 */
function renderMessage(m) {
  const own = m.from === state.self?.id;
  const item = el('li', own ? 'chat-msg chat-own' : 'chat-msg', { 'data-testid': 'chat-message', 'data-from': m.from });
  const meta = el('p', 'chat-meta');
  const name = el('span', 'chat-name', { 'data-testid': 'chat-name' });
  name.textContent = own ? t('you', { name: m.name }) : m.name;
  const role = el('span', 'chat-role');
  role.textContent = roleLabel(m.role);
  meta.append(name, ' ', role);
  const at = new Date(m.at);
  if (!Number.isNaN(at.getTime())) {
    const time = el('time', 'chat-time', { datetime: at.toISOString() });
    time.textContent = formatChatTime(at);
    meta.append(' ', time);
  }
  const text = el('p', 'chat-text', { 'data-testid': 'chat-text' });
  text.textContent = m.text; // as text, never as HTML
  item.append(meta, text);
  return item;
}

/**
 * The local time of a message; with the date when not today.
 * @param {Date} at
 */
function formatChatTime(at) {
  const today = new Date().toDateString() === at.toDateString();
  /** @type {Intl.DateTimeFormatOptions} */
  const opts = today ? { hour: '2-digit', minute: '2-digit' } : { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' };
  try {
    return new Intl.DateTimeFormat(getLanguage(), opts).format(at);
  } catch {
    return at.toLocaleTimeString();
  }
}

/**
 * The server refused a chat message (too fast, too long…): says so in the
 * panel and gives the text back to edit.
 * @param {{code: string, message?: string}} err
 */
export function onChatError(err) {
  const input = /** @type {HTMLTextAreaElement} */ ($('chat-input'));
  if (lastSent && input.value === '') {
    input.value = lastSent;
    renderInputState();
  }
  lastSent = '';
  showChatError(errorMessage(err));
  if (state.panel !== 'chat') announce(errorMessage(err));
}

/** @param {string} text */
function showChatError(text) {
  const box = $('chat-error');
  box.textContent = text;
  box.hidden = false;
}

function hideChatError() {
  $('chat-error').hidden = true;
}
