// A real redis-server for tests: a free loopback port, no persistence, stopped by pid.
import { spawn } from 'node:child_process';
import net from 'node:net';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
    srv.on('error', reject);
  });
}

async function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startRedis() {
  const port = await freePort();
  let proc = null;
  const redis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      await waitForPort(port, 5000);
    },
    // kill -9: the data is gone, as after a crash without persistence.
    async kill9() {
      if (!proc) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
      proc = null;
    },
    // The running redis-server's pid (null when stopped), e.g. for SIGSTOP/SIGCONT.
    get pid() { return proc?.pid ?? null; },
    // Sends a signal to the running redis-server (SIGSTOP pauses it, SIGCONT resumes it).
    signal(sig) { if (proc) proc.kill(sig); },
    async stop() {
      if (!proc) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGCONT');  // a paused redis-server would never act on the SIGTERM
      proc.kill('SIGTERM');
      await exited;
      proc = null;
    },
  };
  await redis.start();
  return redis;
}
