import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startNodeServer, type NodeServer } from '../support/servers/node-server.js';
import { eventually } from '../support/eventually.js';
import { send, uploadIdOf } from '../support/http/requests.js';
import { PLATFORMS, type Platform } from '../support/apps/tus-app.js';
import { runUpload } from '../support/http/tus-client.js';

/**
 * The package as a user gets it: `npm pack` on a fresh clone (no dist/), the tarball installed into
 * a new app with the peers from the npm registry (offline-first, from the local npm cache, at the
 * versions this repository runs on), that app's TypeScript compiled against the packed
 * declarations with this repository's tsc 6, then booted on each adapter and sent one upload by
 * tus-js-client.
 */

const run = promisify(execFile);
const REPO = resolve('.');
/** What a clone holds that packing reads: the library's sources and the files `npm pack` ships or builds with. */
const CLONE_FILES = ['package.json', 'README.md', 'LICENSE', 'nest-cli.json', 'tsconfig.json', 'libs'];
/** The app's dependencies besides the tarball (`@types/node` for `"types": ["node"]`). */
const APP_DEPENDENCIES = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/platform-express',
  '@nestjs/platform-fastify',
  '@nestjs/event-emitter',
  'reflect-metadata',
  'rxjs',
  '@types/node',
];

let work: string;
let app: string;
let tarball: string;
let typeCheck: { ok: boolean; output: string };

/** Runs a command, failing with everything it printed. */
async function sh(command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd, maxBuffer: 16 * 1024 ** 2 });
    return stdout + stderr;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}${stderr}`);
  }
}

const installedVersion = async (name: string): Promise<string> =>
  (JSON.parse(await readFile(join(REPO, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'nestjs-tus-package-'));
  const clone = join(work, 'clone');
  await mkdir(clone);
  for (const file of CLONE_FILES) await cp(join(REPO, file), join(clone, file), { recursive: true });
  await symlink(join(REPO, 'node_modules'), join(clone, 'node_modules'), 'dir');
  await sh('npm', ['pack', '--pack-destination', work], clone);
  tarball = join(work, (await readdir(work)).find((name) => name.endsWith('.tgz'))!);

  app = join(work, 'app');
  await mkdir(app);
  const dependencies: Record<string, string> = { 'nestjs-tus': `file:${tarball}` };
  for (const name of APP_DEPENDENCIES) dependencies[name] = await installedVersion(name);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'new-app', private: true, type: 'module', dependencies }, null, 2));
  await copyFile(join(REPO, 'test/platforms/package-consumer/main.ts'), join(app, 'main.ts'));
  await copyFile(join(REPO, 'test/platforms/package-consumer/tsconfig.json'), join(app, 'tsconfig.json'));
  await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], app);
  // tsc emits even when it reports errors: the boots below run either way, and the type-check's
  // own test shows its errors.
  try {
    typeCheck = { ok: true, output: await sh(join(REPO, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], app) };
  } catch (error) {
    typeCheck = { ok: false, output: (error as Error).message };
  }
}, 180_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('npm pack builds the library and ships it with its declarations, README and LICENSE, and no tests', async () => {
    const listing = (await sh('tar', ['-tzf', tarball], work)).split('\n').filter(Boolean);
    expect(listing).toEqual(
      expect.arrayContaining([
        'package/package.json',
        'package/README.md',
        'package/LICENSE',
        'package/dist/libs/tus/index.js',
        'package/dist/libs/tus/index.d.ts',
        'package/dist/libs/tus/s3.js',
        'package/dist/libs/tus/s3.d.ts',
      ]),
    );
    expect(listing.filter((path) => /\.spec\.|\/testing\/|^package\/(libs|apps|test)\//.test(path))).toEqual([]);
  });

  it('a new app type-checks against the packed declarations with TypeScript 6, "types": ["node"] and skipLibCheck off', () => {
    expect(typeCheck.output).toBe('');
    expect(typeCheck.ok).toBe(true);
  });

  describe.each(PLATFORMS)('a new app on %s', (platform) => {
    let server: NodeServer;
    let uploadDir: string;
    beforeAll(async () => {
      uploadDir = await mkdtemp(join(work, `uploads-${platform}-`));
      server = await startConsumerApp(platform, uploadDir);
    });
    afterAll(() => server?.stop());

    it('takes an upload from tus-js-client, with its finish event', async () => {
      const data = randomBytes(1024 * 1024 + 17);
      const { url } = await runUpload(data, { endpoint: `${server.url}/files`, chunkSize: 256 * 1024, metadata: { filename: 'a.bin' } });
      const id = uploadIdOf(url);
      await eventually(async () => server.output().includes(`finished ${id} ${data.length}`));
      expect((await readFile(join(uploadDir, id))).equals(data)).toBe(true);
    });

    it("maps TusStorageService's errors in the app's own controller to their status", async () => {
      const response = await send('GET', `${server.url}/my-uploads/unknown`);
      expect(response.status).toBe(404);
    });
  });
});

/** `node dist/main.js <platform> <uploadDir>` in the new app, once it printed its URL. */
function startConsumerApp(platform: Platform, uploadDir: string): Promise<NodeServer> {
  return startNodeServer(['dist/main.js', platform, uploadDir], { cwd: app, listening: /listening (\S+)/, name: 'the app' });
}
