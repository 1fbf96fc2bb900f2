import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkNets, kernelIpParam, netSetups, parseNet, USER_NET } from '../../../engine/net.js';
import { initConfig } from '../../../engine/rootfs/init.js';
import { KwbError } from '../../../engine/results.js';

describe('--net', () => {
  it('reads user networks with forwards on loopback unless an address is given', () => {
    assert.deepEqual(parseNet('user'), { kind: 'user', forwards: [], mac: undefined });
    assert.deepEqual(parseNet('user,hostfwd=tcp:8080:80,hostfwd=udp:0.0.0.0:5353:53'), {
      kind: 'user',
      mac: undefined,
      forwards: [
        { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: 8080, guestPort: 80 },
        { proto: 'udp', hostAddr: '0.0.0.0', hostPort: 5353, guestPort: 53 },
      ],
    });
  });

  it('reads LANs with an address and a MAC', () => {
    assert.deepEqual(parseNet('lan=lab-1,ip=10.1.0.1/24,mac=02:00:00:00:00:0A'), {
      kind: 'lan',
      name: 'lab-1',
      ip: '10.1.0.1/24',
      mac: '02:00:00:00:00:0a',
    });
  });

  it('refuses what it cannot read, in one line naming the option', () => {
    for (const bad of [
      'tap0',
      'user,hostfwd=tcp:80',
      'user,hostfwd=sctp:1:2',
      'user,hostfwd=tcp:localhost:1:2',
      'user,hostfwd=tcp:0:80',
      'user,foo=1',
      'lan=',
      'lan=a/b',
      'lan=x,ip=10.0.0.1',
      'lan=x,ip=10.0.0.300/24',
      'lan=x,mac=01:00:00:00:00:01',
      'lan=x,speed',
    ]) {
      assert.throws(
        () => parseNet(bad),
        (e: unknown) => e instanceof KwbError && e.exitCode === 2 && e.message.startsWith(`--net ${bad}`),
        bad,
      );
    }
    assert.throws(() => checkNets([parseNet('user'), parseNet('user')], undefined), /once per guest/);
    assert.throws(() => checkNets([parseNet('user,hostfwd=tcp:1:2,hostfwd=tcp:127.0.0.1:1:3')], undefined), /twice/);
    assert.throws(() => checkNets([], 'a.pcap'), /^Error: --pcap needs a --net interface/);
  });

  it('numbers interfaces in order and gives the user network its fixed addresses', () => {
    const setups = netSetups([
      parseNet('lan=a'),
      parseNet('user'),
      parseNet('lan=b,ip=10.9.0.1/16,mac=02:00:00:00:00:01'),
    ]);
    assert.deepEqual(
      setups.map((s) => s.device),
      ['eth0', 'eth1', 'eth2'],
    );
    assert.equal(setups[0]!.address, undefined);
    assert.match(setups[0]!.mac, /^02:6b(:[0-9a-f]{2}){4}$/);
    assert.deepEqual(setups[1], {
      device: 'eth1',
      mac: setups[1]!.mac,
      address: `${USER_NET.address}/${USER_NET.prefix}`,
      gateway: USER_NET.gateway,
      dns: USER_NET.dns,
    });
    assert.deepEqual(setups[2], { device: 'eth2', mac: '02:00:00:00:00:01', address: '10.9.0.1/16' });
  });

  it("addresses an rv64 guest by the kernel's ip= parameter", () => {
    const [user, lan] = netSetups([parseNet('user'), parseNet('lan=a,ip=10.9.0.1/20')]);
    assert.equal(kernelIpParam(user!), 'ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off:10.0.2.3');
    assert.equal(kernelIpParam(lan!), 'ip=10.9.0.1:::255.255.240.0::eth1:off');
  });

  it("tells kwb's init to bring each interface up before the command", () => {
    const net = netSetups([parseNet('lan=a'), parseNet('user')]);
    const lines = initConfig({ shares: [], net, command: ['true'] })
      .trim()
      .split('\n')
      .slice(1);
    assert.deepEqual(lines, ['net eth0', 'net eth1 10.0.2.15/24 10.0.2.2 10.0.2.3', 'set -- true']);
  });
});
