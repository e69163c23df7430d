import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../eventually.js';

const NGINX = '/usr/sbin/nginx';

/** A reverse proxy on loopback in front of `upstream` (nginx from Debian's packages). */
export interface Proxy {
  /** `http://127.0.0.1:<port>`: forwards the client's Host and scheme, no body limit. */
  origin: string;
  /** `http://127.0.0.1:<port>`: the same, with `client_max_body_size 1m`. */
  limitedOrigin: string;
  stop(): Promise<void>;
}

/** Installs nginx when missing (as root), or fails saying what to install: never a silent skip. */
function ensureNginx(): void {
  if (existsSync(NGINX)) return;
  try {
    execFileSync('apt-get', ['update'], { stdio: 'ignore' });
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'nginx-light'], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch {
    // reported below
  }
  if (!existsSync(NGINX)) throw new Error('The proxy tests need nginx: run `apt-get install nginx-light` (as root).');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** How the proxy talks to the upstream. */
export interface ProxyOptions {
  /**
   * Keep upstream connections open between requests (`upstream { keepalive }` with
   * `proxy_set_header Connection ""`), as deployments do for throughput. Off by default: nginx
   * then closes each upstream connection after its response.
   */
  upstreamKeepalive?: boolean;
}

export async function startProxy(upstream: string, options: ProxyOptions = {}): Promise<Proxy> {
  ensureNginx();
  const dir = await mkdtemp(join(tmpdir(), 'nestjs-tus-nginx-'));
  await chmod(dir, 0o755); // workers may run as another user
  const [port, limitedPort] = [await freePort(), await freePort()];
  const keepalive = options.upstreamKeepalive === true;
  const pool = keepalive ? `upstream tus_upstream { server ${new URL(upstream).host}; keepalive 8; }` : '';
  const location = `
      location / {
        proxy_pass ${keepalive ? 'http://tus_upstream' : upstream};${keepalive ? '\n        proxy_set_header Connection "";' : ''}
        proxy_http_version 1.1;
        proxy_request_buffering off;
        proxy_buffering off;
        proxy_set_header X-Forwarded-Host $http_host;
        proxy_set_header X-Forwarded-Proto $scheme;
      }`;
  await writeFile(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  ${pool}
  server { listen 127.0.0.1:${port}; client_max_body_size 0; ${location} }
  server {
    listen 127.0.0.1:${limitedPort};
    client_max_body_size 1m;
    # A plain-text reason instead of nginx's HTML page: tus clients show it to the user.
    error_page 413 @too_large;
    location @too_large { default_type text/plain; return 413 "Chunk larger than this proxy accepts (1 MiB): use a smaller chunkSize\\n"; }
    ${location}
  }
}
`,
  );
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  await eventually(() => fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false), 5_000, `nginx on port ${port} answering`);
  return {
    origin: `http://127.0.0.1:${port}`,
    limitedOrigin: `http://127.0.0.1:${limitedPort}`,
    stop: async () => {
      child.kill('SIGQUIT');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
