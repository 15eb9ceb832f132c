// proto/ws/qa.*.schema.json against examples of the Q&A contract (accepted) and near misses (rejected). Needs no server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schemaErrors } from '../support/ws.mjs';

const question = { id: '0123456789abcdef', text: 'Will the slides be shared?', from: 'Ada', ts: '2026-11-27T05:00:00Z', votes: 3, status: 'open' };
const hello = { type: 'hello', me: { id: 7, name: 'Ada', role: 'registrant' }, room: 1, seq: 0, epoch: 'e3f1a9c2', presence: 1,
  recovered: false, drops: [], messages: [],
  qa: { questions: [{ ...question, mine: true }], voted: ['0123456789abcdef'], pinned: question, anonymous: false, total: 1 } };

const accepts = (msg, schema) => assert.equal(schemaErrors(msg, schema), null, `should accept ${JSON.stringify(msg)}`);
const rejects = (msg, schema, why) => assert.notEqual(schemaErrors(msg, schema), null, `should reject (${why}): ${JSON.stringify(msg)}`);

test('the Q&A server messages are valid', () => {
  for (const m of [hello, { type: 'qa.question', question }, { type: 'qa.question', question: { ...question, from: null, status: 'answered' } },
    { type: 'qa.status', id: question.id, status: 'dismissed' }, { type: 'qa.counts', votes: { [question.id]: 4 } },
    { type: 'qa.pinned', question }, { type: 'qa.pinned', question: null }, { type: 'qa.voted', id: question.id, up: false },
    { type: 'qa.settings', anonymous: true }, { type: 'error', code: 'forbidden', message: 'no' }]) accepts(m);
  accepts({ ...hello, qa: { questions: [], voted: [], pinned: null, anonymous: true, total: 0 } });
});

test('near misses are rejected', () => {
  rejects({ type: 'qa.question', question: { ...question, asker: 7 } }, undefined, 'asker id leaked');
  rejects({ type: 'qa.question', question: { ...question, mine: false } }, undefined, 'mine only when true');
  rejects({ type: 'qa.question', question: { ...question, status: 'dismissed' } }, undefined, 'a dismissed question is not shown');
  rejects({ type: 'qa.question', question: { ...question, text: 'x'.repeat(301) } }, undefined, '301 chars');
  rejects({ type: 'qa.counts', votes: {} }, undefined, 'empty counts');
  rejects({ type: 'qa.counts', votes: { 'not-an-id': 1 } }, undefined, 'bad id');
  rejects({ type: 'qa.status', id: question.id, status: 'open' }, undefined, 'status never goes back to open');
  rejects({ ...hello, qa: { ...hello.qa, total: undefined } }, undefined, 'no total');
});

test('the Q&A client messages', () => {
  accepts({ type: 'qa.ask', text: 'Why?' }, 'qa.ask.schema.json');
  accepts({ type: 'qa.ask', text: 'Why?', anonymous: true }, 'qa.ask.schema.json');
  rejects({ type: 'qa.ask', text: 'x'.repeat(301) }, 'qa.ask.schema.json', '301 chars');
  rejects({ type: 'qa.ask', text: 'a\nb' }, 'qa.ask.schema.json', 'newline');
  accepts({ type: 'qa.vote', id: question.id }, 'qa.vote.schema.json');
  accepts({ type: 'qa.vote', id: question.id, up: false }, 'qa.vote.schema.json');
  rejects({ type: 'qa.vote', id: 3 }, 'qa.vote.schema.json', 'numeric id');
  accepts({ type: 'qa.delete', id: question.id }, 'qa.delete.schema.json');
  accepts({ type: 'qa.moderate', id: question.id, action: 'pin' }, 'qa.moderate.schema.json');
  accepts({ type: 'qa.moderate', action: 'unpin' }, 'qa.moderate.schema.json');
  rejects({ type: 'qa.moderate', id: question.id, action: 'ban' }, 'qa.moderate.schema.json', 'unknown action');
  rejects({ type: 'qa.ask', text: 'Why?' }, undefined, 'qa.ask from the server');
});
