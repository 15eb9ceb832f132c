// A strict RFC 4180 reader for the CSV exports: CRLF records, quoted fields with doubled quotes;
// a bare LF or CR, or a stray quote, fails the test that reads it.
import assert from 'node:assert/strict';

export function parseCsv(text) {
  const rows = [];
  let row = [], field = '', i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"' && field === '') {
      i++;
      for (;;) {
        assert.ok(i < text.length, 'unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
          i++;
          break;
        }
        field += text[i++];
      }
      assert.ok(i === text.length || text[i] === ',' || text[i] === '\r', `junk after a closing quote at offset ${i}`);
      continue;
    }
    if (c === ',') { row.push(field); field = ''; i++; continue; }
    if (c === '\r') {
      assert.equal(text[i + 1], '\n', `bare CR at offset ${i}`);
      row.push(field); rows.push(row); row = []; field = ''; i += 2; continue;
    }
    assert.notEqual(c, '\n', `bare LF at offset ${i}`);
    assert.notEqual(c, '"', `quote inside an unquoted field at offset ${i}`);
    field += c; i++;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}
