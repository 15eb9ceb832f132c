// proto/ws/*.schema.json against the examples of the chat contract (accepted) and near misses (rejected), so the
// schemas that tests/support/ws.mjs applies to every server message are known to be neither too loose nor too strict.
// Needs no server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schemaErrors } from '../support/ws.mjs';

const message = { type: 'chat.message', seq: 43, id: 'e3f1a9c2-43', from: { id: 7, name: 'Ada', role: 'registrant' },
  text: 'Hello!', ts: '2026-11-27T05:00:00Z', client_id: 'abc' };
const drop = { id: 3, title: 'Week 2 worksheet', body: '**Print** it', url: null,
  file: { name: 'worksheet.pdf', size: 12345, content_type: 'application/pdf', download: '/api/drops/3/file' },
  released_at: '2026-11-27T05:00:00Z', seen: false };
const hello = { type: 'hello', me: { id: 7, name: 'Ada', role: 'registrant' }, room: 1, seq: 42, epoch: 'e3f1a9c2',
  presence: 5, recovered: true, drops: [drop],
  messages: [{ ...message, seq: 41, id: 'e3f1a9c2-41' }, { ...message, seq: 42, id: 'e3f1a9c2-42' }] };
const dropEvent = { type: 'drop', drop };
const deleted = { type: 'chat.deleted', id: 'e3f1a9c2-43' };
const presence = { type: 'presence', count: 5 };
const rateLimited = { type: 'error', code: 'rate_limited', message: 'Slow down', until: '2026-11-27T05:00:10Z' };
const send = { type: 'chat.send', text: 'Hello!', client_id: 'abc' };

const without = (obj, key) => Object.fromEntries(Object.entries(obj).filter(([k]) => k !== key));

function accepts(msg, schema) {
  assert.equal(schemaErrors(msg, schema), null, `should accept ${JSON.stringify(msg)}`);
}
function rejects(msg, schema, why) {
  assert.notEqual(schemaErrors(msg, schema), null, `should reject (${why}): ${JSON.stringify(msg)}`);
}

test('the contract examples are valid server messages', () => {
  for (const m of [hello, message, deleted, presence, rateLimited, dropEvent]) accepts(m);
  accepts({ ...hello, drops: [] });
  accepts({ type: 'drop', drop: { ...drop, file: null, url: 'https://example.org/replay' } });
  accepts(without(message, 'client_id'));
  accepts({ ...hello, seq: 0, recovered: false, messages: [] });
  accepts({ ...hello, me: { id: 0, name: 'Organizer', role: 'organizer' } });
  accepts({ ...message, from: { id: 0, name: 'Organizer', role: 'organizer' } });
  accepts({ type: 'error', code: 'muted', message: 'Muted', until: '2026-11-27T05:10:00Z' });
  for (const code of ['invalid', 'unavailable', 'bad_message']) accepts({ type: 'error', code, message: 'No' });
  accepts({ ...message, text: 'x'.repeat(500) });
  accepts({ ...message, text: '😀'.repeat(500) }, 'chat.message.schema.json');
  accepts({ ...message, text: 'déjà vu — 你好' });
});

test('unknown types, extra fields and missing fields are rejected', () => {
  rejects({ type: 'chat.typing' }, undefined, 'unknown type');
  rejects({ ...presence, extra: 1 }, undefined, 'extra field');
  rejects({ ...message, from: { ...message.from, email: 'a@b.c' } }, undefined, 'extra field in from');
  rejects({ ...hello, me: { ...hello.me, token: 'x' } }, undefined, 'extra field in me');
  for (const k of ['seq', 'id', 'from', 'text', 'ts']) rejects(without(message, k), undefined, `no ${k}`);
  for (const k of ['me', 'room', 'seq', 'epoch', 'presence', 'recovered', 'drops', 'messages']) rejects(without(hello, k), undefined, `no ${k}`);
  for (const k of ['id', 'title', 'released_at', 'seen']) rejects({ type: 'drop', drop: without(drop, k) }, undefined, `drop without ${k}`);
  rejects({ type: 'drop', drop: { ...drop, to: [7] } }, undefined, 'audience leaked into a drop');
  rejects({ type: 'drop', drop: { ...drop, url: 'javascript:alert(1)' } }, undefined, 'non-http url');
  rejects(without(deleted, 'id'), undefined, 'no id');
  rejects(without(presence, 'count'), undefined, 'no count');
  rejects(without(rateLimited, 'message'), undefined, 'no message');
  rejects({ ...hello, messages: [{ ...message, extra: true }] }, undefined, 'bad message inside hello');
  rejects([presence], undefined, 'array');
});

test('types, ranges and formats are enforced', () => {
  rejects({ ...message, seq: -1 }, undefined, 'negative seq');
  rejects({ ...message, seq: 0 }, undefined, 'message seq 0');
  rejects({ ...message, seq: 4.5 }, undefined, 'fractional seq');
  rejects({ ...message, seq: '43' }, undefined, 'string seq');
  rejects({ ...hello, seq: -1 }, undefined, 'negative hello seq');
  rejects({ ...message, text: '' }, undefined, 'empty text');
  rejects({ ...message, text: 'x'.repeat(501) }, undefined, '501 chars');
  rejects({ ...message, text: 'a\nb' }, undefined, 'newline');
  rejects({ ...message, text: 'a\u0007b' }, undefined, 'control char');
  rejects({ ...message, text: 'a\u0085b' }, undefined, 'C1 control char');
  rejects({ ...message, ts: 'yesterday' }, undefined, 'ts not a date');
  rejects({ ...message, ts: '2026-11-27T05:00:00+02:00' }, undefined, 'ts not UTC Z');
  rejects({ ...message, ts: '2026-13-27T05:00:00Z' }, undefined, 'month 13');
  rejects({ ...message, ts: 1764219600 }, undefined, 'ts number');
  rejects({ ...message, client_id: 'c'.repeat(65) }, undefined, 'client_id over 64');
  rejects({ ...message, from: { ...message.from, role: 'admin' } }, undefined, 'unknown role');
  rejects({ ...message, from: { id: 3, name: 'Org', role: 'organizer' } }, undefined, 'organizer id not 0');
  rejects({ ...message, id: 43 }, undefined, 'numeric id');
  rejects({ ...hello, recovered: 'yes' }, undefined, 'recovered not boolean');
  rejects({ ...hello, room: 0 }, undefined, 'room 0');
  rejects({ ...presence, count: -1 }, undefined, 'negative count');
  rejects({ type: 'error', code: 'teapot', message: 'x' }, undefined, 'unknown error code');
});

test('until is required exactly on rate_limited and muted errors', () => {
  rejects(without(rateLimited, 'until'), undefined, 'rate_limited without until');
  rejects({ type: 'error', code: 'muted', message: 'Muted' }, undefined, 'muted without until');
  rejects({ type: 'error', code: 'invalid', message: 'No', until: '2026-11-27T05:00:10Z' }, undefined, 'until on invalid');
  rejects({ ...rateLimited, until: 'soon' }, undefined, 'until not a date');
});

test('chat.send: the client message', () => {
  accepts(send, 'chat.send.schema.json');
  accepts(without(send, 'client_id'), 'chat.send.schema.json');
  rejects(without(send, 'text'), 'chat.send.schema.json', 'no text');
  rejects({ ...send, text: '' }, 'chat.send.schema.json', 'empty');
  rejects({ ...send, text: 'x'.repeat(501) }, 'chat.send.schema.json', '501 chars');
  rejects({ ...send, text: 'a\nb' }, 'chat.send.schema.json', 'newline');
  rejects({ ...send, client_id: 'c'.repeat(65) }, 'chat.send.schema.json', 'client_id over 64');
  rejects({ ...send, type: 'chat.message' }, 'chat.send.schema.json', 'wrong type');
  rejects({ ...send, seq: 1 }, 'chat.send.schema.json', 'extra field');
  // A client message is not a server message.
  rejects(send, undefined, 'chat.send from the server');
});
