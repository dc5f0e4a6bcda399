/**
 * Headless Chromium for the report tests (Debian's `chromium` package, driven by
 * playwright-core). `launchChromium` returns a reason instead when it is not installed.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that keep a headless Chromium off the network (the machine has none) and out of the user's profile. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launchChromium(): Promise<Browser | string> {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (install Debian's chromium package, or set CHROMIUM_PATH)`;
  // launch() gives every browser a fresh temporary profile (it refuses --user-data-dir).
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}
