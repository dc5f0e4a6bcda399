import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../aws/queue.js';
import { NextReceive } from './next-receive.js';

/** A receive that resolves when the test says so, counting its calls. */
function fakeReceive() {
  const waiting: Array<(m: ReceivedMessage | undefined) => void> = [];
  const failing: Array<(e: Error) => void> = [];
  let calls = 0;
  const receive = () => {
    calls++;
    return new Promise<ReceivedMessage | undefined>((resolve, reject) => {
      waiting.push(resolve);
      failing.push(reject);
    });
  };
  return { receive, calls: () => calls, answer: (m?: ReceivedMessage) => waiting.shift()!(m), fail: (e: Error) => failing.shift()!(e) };
}

const msg = (n: number): ReceivedMessage => ({ body: `m${n}`, receiptHandle: `h${n}`, receiveCount: 1 });

describe('NextReceive', () => {
  it('started says whether a receive started early is still to be taken or released (the recycle check waits for it)', async () => {
    const f = fakeReceive();
    const next = new NextReceive(f.receive);
    expect(next.started).toBe(false);
    next.start();
    expect(next.started).toBe(true);
    const taken = next.take();
    expect(next.started).toBe(false);
    f.answer(msg(1));
    await taken;
    next.start();
    f.answer(undefined);
    await next.release(async () => {});
    expect(next.started).toBe(false);
  });

  it('take() uses the receive started early, then starts a new one', async () => {
    const f = fakeReceive();
    const next = new NextReceive(f.receive);
    next.start();
    next.start(); // one in flight at most
    expect(f.calls()).toBe(1);
    f.answer(msg(1));
    expect(await next.take()).toEqual(msg(1));
    expect(f.calls()).toBe(1);
    const second = next.take();
    expect(f.calls()).toBe(2);
    f.answer(msg(2));
    expect(await second).toEqual(msg(2));
  });

  it('a failed early receive is not unhandled and fails the take', async () => {
    const f = fakeReceive();
    const next = new NextReceive(f.receive);
    next.start();
    f.fail(new Error('connection reset'));
    await new Promise((r) => setTimeout(r, 0)); // an unhandled rejection would surface here
    await expect(next.take()).rejects.toThrow('connection reset');
  });

  it('release() waits for an early receive and gives its message back, once', async () => {
    const f = fakeReceive();
    const next = new NextReceive(f.receive);
    const givenBack: string[] = [];
    const giveBack = async (m: ReceivedMessage) => void givenBack.push(m.receiptHandle);
    expect(await next.release(giveBack)).toBe(false); // nothing in flight
    next.start();
    const released = next.release(giveBack);
    f.answer(msg(3));
    expect(await released).toBe(true);
    expect(givenBack).toEqual(['h3']);
    expect(await next.release(giveBack)).toBe(false);
    next.start();
    f.answer(undefined); // an empty poll: nothing to give back
    expect(await next.release(giveBack)).toBe(false);
    expect(givenBack).toEqual(['h3']);
  });
});
