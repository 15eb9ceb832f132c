// proto/ws/poll*.schema.json against examples of the polls contract (accepted) and near misses (rejected). Needs no server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schemaErrors } from '../support/ws.mjs';

const poll = { id: 3, session: 1, question: 'Which topic next?', kind: 'single', options: ['Pricing', 'Hiring'], state: 'open', shown: false };
const results = { counts: [4, 1], voters: 5 };
const without = (obj, key) => Object.fromEntries(Object.entries(obj).filter(([k]) => k !== key));

function accepts(msg, schema) {
  assert.equal(schemaErrors(msg, schema), null, `should accept ${JSON.stringify(msg)}`);
}
function rejects(msg, schema, why) {
  assert.notEqual(schemaErrors(msg, schema), null, `should reject (${why}): ${JSON.stringify(msg)}`);
}

test('the polls examples are valid messages', () => {
  accepts({ type: 'poll', poll });
  accepts({ type: 'poll', poll: { ...poll, state: 'closed', shown: true, results } });
  accepts({ type: 'poll.results', results: [{ poll_id: 3, ...results }] });
  accepts({ type: 'poll.answer', poll_id: 3, choices: [1] });
  accepts({ type: 'poll.vote', poll_id: 3, choices: [0, 2] }, 'poll.vote.schema.json');
  const hello = { type: 'hello', me: { id: 7, name: 'Ada', role: 'registrant' }, room: 1, seq: 0, epoch: 'e1', presence: 1,
    recovered: false, drops: [], messages: [], polls: [{ ...poll, answer: [1] }, { ...poll, id: 4, shown: true, results, answer: null }] };
  accepts(hello);
  for (const code of ['closed', 'not_found', 'forbidden']) accepts({ type: 'error', code, message: 'No' });
});

test('near misses are rejected', () => {
  rejects({ type: 'poll', poll: { ...poll, state: 'draft' } }, undefined, 'a draft never reaches members');
  rejects({ type: 'poll', poll: { ...poll, options: ['only one'] } }, undefined, 'one option');
  rejects({ type: 'poll', poll: { ...poll, opened_ms: 1 } }, undefined, 'bus-only field leaked');
  for (const k of ['id', 'question', 'kind', 'options', 'state', 'shown']) rejects({ type: 'poll', poll: without(poll, k) }, undefined, `no ${k}`);
  rejects({ type: 'poll.results', results: [] }, undefined, 'empty results');
  rejects({ type: 'poll.results', results: [{ poll_id: 3, counts: [1] }] }, undefined, 'no voters');
  rejects({ type: 'poll.answer', poll_id: 3, choices: [] }, undefined, 'no choices');
  rejects({ type: 'poll.vote', poll_id: 3, choices: [] }, 'poll.vote.schema.json', 'no choices');
  rejects({ type: 'poll.vote', poll_id: 3, choices: [1, 1] }, 'poll.vote.schema.json', 'repeated choice');
  rejects({ type: 'poll.vote', poll_id: 3, choices: [8] }, 'poll.vote.schema.json', 'no ninth option');
  rejects({ type: 'poll.vote', poll_id: 3, choices: [0], registration_id: 9 }, 'poll.vote.schema.json', 'extra field');
});
