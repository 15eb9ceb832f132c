// Socket.IO 4.8, WebSocket transport only, one room (the default namespace): emit('hello') on
// connect, 'chat.send' in, io.emit('chat.message') out. With REDIS_URL set it uses
// @socket.io/redis-adapter, so several of these processes act as one room (the multi-node peer).
// Run: node socketio_server.mjs (PORT, REDIS_URL).
import http from 'node:http';
import { Server } from 'socket.io';
import { chatMessage, announce } from './chat.mjs';

const server = http.createServer((req, res) => res.end('chat peer\n'));
const io = new Server(server, { transports: ['websocket'], serveClient: false });
if (process.env.REDIS_URL) {
  const { createClient } = await import('redis');
  const { createAdapter } = await import('@socket.io/redis-adapter');
  const pub = createClient({ url: process.env.REDIS_URL });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub));
}
let nextId = 0;
io.on('connection', (socket) => {
  const id = ++nextId;
  socket.emit('hello', { seq: 0 });
  socket.on('chat.send', (m) => {
    const msg = chatMessage(id, JSON.stringify({ type: 'chat.send', text: m?.text }));
    if (msg) io.emit('chat.message', msg);
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => announce(server.address().port));
