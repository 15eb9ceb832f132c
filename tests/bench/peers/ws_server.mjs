// ws 8 on node's http server: one JSON string per message, sent to each open socket in turn.
// Run: node ws_server.mjs (PORT, default a free one).
import http from 'node:http';
import { WebSocketServer, WebSocket } from 'ws';
import { hello, chatMessage, announce } from './chat.mjs';

const server = http.createServer((req, res) => res.end('chat peer\n'));
const wss = new WebSocketServer({ server });
let nextId = 0;
wss.on('connection', (ws) => {
  const id = ++nextId;
  ws.send(hello());
  ws.on('message', (raw) => {
    const msg = chatMessage(id, raw.toString());
    if (!msg) return;
    const text = JSON.stringify(msg);
    for (const c of wss.clients) if (c.readyState === WebSocket.OPEN) c.send(text);
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => announce(server.address().port));
