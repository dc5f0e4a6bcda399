import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { RequestCounter } from './request-counter.js';

describe('RequestCounter', () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end('{}');
    });
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('counts requests by Service.Operation and diffs against a snapshot', async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const counter = new RequestCounter();
    counter.attach(client, 'DynamoDB');
    await client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' } } }));
    const before = counter.snapshot();
    expect(before).toEqual({ 'DynamoDB.GetItem': 1 });
    await client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' } } }));
    await client.send(new DescribeTableCommand({ TableName: 't' }));
    expect(counter.since(before)).toEqual({ 'DynamoDB.GetItem': 1, 'DynamoDB.DescribeTable': 1 });
    expect(counter.since(counter.snapshot())).toEqual({});
    client.destroy();
  });
});
