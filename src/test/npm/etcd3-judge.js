// Drives the etcd3 npm client (grpc-js underneath) against one endpoint and prints one line per step:
// "<step> ok <result as JSON>" or "<step> ERR <error class> <message>". Etcd3NpmIT compares them with what
// etcd 3.4 answers to the same script.
const { Etcd3 } = require('etcd3');

const client = new Etcd3({ hosts: process.argv[2] });
const timeout = (ms, what) => new Promise((_, reject) => setTimeout(() => reject(new Error(what)), ms));

const steps = [
  ['put and get', async () => {
    await client.put('kv/a').value('1');
    return [await client.get('kv/a').string(), await client.get('kv/missing').string()];
  }],
  ['prefix reads', async () => {
    await client.put('kv/b').value('2');
    await client.put('kv/c').value('3');
    return [await client.getAll().prefix('kv/').strings(),
      await client.getAll().prefix('kv/').sort('Key', 'Descend').limit(2).keys(),
      await client.getAll().prefix('kv/').count()];
  }],
  ['txn', async () => {
    const attempt = () => client.if('kv/a', 'Value', '==', '1')
      .then(client.put('kv/a').value('then')).else(client.put('kv/a').value('else')).commit();
    return [(await attempt()).succeeded, (await attempt()).succeeded, await client.get('kv/a').string()];
  }],
  ['delete with previous values', async () =>
    (await client.delete().prefix('kv/').getPrevious()).map(kv => kv.key.toString() + '=' + kv.value.toString())],
  ['lease', async () => {
    const lease = client.lease(30);
    await lease.put('leased').value('v');
    const held = await client.get('leased').string();
    await lease.revoke();
    return [held, await client.get('leased').string()];
  }],
  // the client ignores etcd's "requested lease not found" on a revoke, and names the error for others: it
  // recognises etcd's errors by their text
  ['revoke twice', async () => {
    const lease = client.lease(30, { autoKeepAlive: false });
    await lease.grant();
    await lease.revoke();
    await lease.revoke();
    return 'revoked';
  }],
  ['revoke of an unknown lease', () => client.leaseClient.leaseRevoke({ ID: 123456789 })],
  ['watch', async () => {
    const watcher = await client.watch().prefix('w/').withPreviousKV().create();
    const events = [];
    const seen = new Promise(resolve => {
      const add = event => { events.push(event); if (events.length === 3) resolve(); };
      watcher.on('put', (kv, previous) => add('put ' + kv.key + '=' + kv.value + (previous ? ' was ' + previous.value : '')));
      watcher.on('delete', kv => add('delete ' + kv.key));
    });
    await client.put('w/1').value('a');
    await client.put('w/1').value('b');
    await client.delete().key('w/1');
    await Promise.race([seen, timeout(10000, 'events: ' + events)]);
    await watcher.cancel();
    return events;
  }],
  ['lock', async () => {
    const first = client.lock('locks/one');
    await first.acquire();
    let second;
    try {
      await client.lock('locks/one').acquire();
      second = 'acquired while held';
    } catch (e) {
      second = e.constructor.name;
    }
    await first.release();
    return [second, await client.lock('locks/one').do(async () => 'ran under the lock')];
  }],
  ['software transactional memory', async () => {
    await client.put('stm/counter').value('41');
    await Promise.all([1, 2, 3].map(() => client.stm().transact(async tx => {
      const value = Number(await tx.get('stm/counter').string());
      await tx.put('stm/counter').value(String(value + 1));
    })));
    return client.get('stm/counter').string();
  }],
  ['election', async () => {
    const election = client.election('elections/one');
    const campaign = election.campaign('first');
    await Promise.race([new Promise((resolve, reject) => {
      campaign.on('elected', resolve);
      campaign.on('error', reject);
    }), timeout(10000, 'not elected')]);
    const observer = await election.observe();
    const before = [await election.leader(), observer.leader()];
    await campaign.proclaim('proclaimed');
    const after = await election.leader();
    await campaign.resign();
    await observer.cancel();
    return [...before, after, await election.leader()];
  }],
  ['status and members', async () => {
    const status = await client.maintenance.status();
    const members = await client.cluster.memberList({});
    return [typeof status.version, members.members.length];
  }],
];

(async () => {
  for (const [name, step] of steps) {
    try {
      console.log(name + ' ok ' + JSON.stringify(await step()));
    } catch (e) {
      console.log(name + ' ERR ' + e.constructor.name + ' ' + e.message);
    }
  }
  client.close();
})();
