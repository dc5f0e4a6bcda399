/**
 * `npm run local:start|local:status|local:stop`: the bare emulator (moto server on
 * LocalStack's port), detached, with a pid file in the one local state directory
 * (`stateDir()`, like `mapreduce local up`). `mapreduce local up` builds the whole
 * local stack on top of it (resources, coordinator, checker, workers).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { LOCAL_ENDPOINT } from '../aws/clients.js';
import { ensureEmulator, isEndpointUp, readPidFile, removePidFile, writePidFile } from './emulator.js';
import { stateDir as localStateDir } from './state.js';

const endpoint = process.env.AWS_ENDPOINT_URL || LOCAL_ENDPOINT;
// One emulator per endpoint: its pid file and log live in a folder named after the port.
const stateDir = path.join(localStateDir(), `emulator-${new URL(endpoint).port || '80'}`);

async function main(cmd: string | undefined): Promise<number> {
  switch (cmd ?? '') {
    case 'start': {
      mkdirSync(stateDir, { recursive: true });
      const h = await ensureEmulator({ endpoint, detached: true, logFile: path.join(stateDir, 'emulator.log') });
      if (h.started) writePidFile(stateDir, h.pid);
      console.log(h.started ? `Emulator started on ${endpoint} (pid ${h.pid}).` : `An emulator already answers on ${endpoint}.`);
      return 0;
    }
    case 'status': {
      const up = await isEndpointUp(endpoint);
      console.log(up ? `Emulator is up on ${endpoint}.` : `Nothing answers on ${endpoint}. Start it with \`npm run local:start\`.`);
      return up ? 0 : 1;
    }
    case 'stop': {
      const pid = readPidFile(stateDir);
      if (!pid) {
        console.log('No emulator started by `npm run local:start` is recorded.');
        return 0;
      }
      try {
        process.kill(pid, 'SIGTERM');
      } catch {}
      removePidFile(stateDir);
      console.log(`Emulator (pid ${pid}) stopped.`);
      return 0;
    }
    default:
      console.error('usage: node dist/local/emulator-main.js start|status|stop');
      return 2;
  }
}

process.exitCode = await main(process.argv[2]);
