// Guest network interfaces (`--net`), engine-neutral: what each one is, and the addresses kwb's init gives it.
//   user[,hostfwd=tcp|udp:[ADDR:]HOSTPORT:GUESTPORT]...   NAT to the host and beyond through libslirp (uml/net-slirp.c)
//   lan=NAME[,ip=ADDR/PREFIX][,mac=MAC]                    the L2 segment NAME, shared by every guest naming it
// The n-th --net is the guest's eth(n-1).
import { randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { KwbError } from './results.js';

export interface HostForward {
  proto: 'tcp' | 'udp';
  /** The host address the forward listens on: loopback unless the user names one. */
  hostAddr: string;
  hostPort: number;
  guestPort: number;
}

export type NetSpec =
  { kind: 'user'; forwards: HostForward[]; mac?: string } | { kind: 'lan'; name: string; ip?: string; mac?: string };

/** The fixed addresses of a `user` interface, as QEMU's user networking has them: the gateway is the host's
 *  loopback (a service on the host's 127.0.0.1:PORT answers the guest at 10.0.2.2:PORT), DNS queries to 10.0.2.3
 *  go to the host's resolver. */
export const USER_NET = { address: '10.0.2.15', prefix: 24, gateway: '10.0.2.2', dns: '10.0.2.3' } as const;

const LAN_NAME = /^[A-Za-z0-9][\w.-]{0,31}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const SYNTAX = 'give user[,hostfwd=tcp:[ADDR:]HOSTPORT:GUESTPORT]... or lan=NAME[,ip=ADDR/PREFIX][,mac=MAC]';

function port(text: string | undefined, spec: string): number {
  const n = Number(text);
  if (!text || !/^\d+$/.test(text) || n < 1 || n > 65535) throw new KwbError(`--net ${spec}: bad port '${text ?? ''}'`);
  return n;
}

function parseForward(value: string, spec: string): HostForward {
  const parts = value.split(':');
  const proto = parts.shift();
  if ((proto !== 'tcp' && proto !== 'udp') || parts.length < 2 || parts.length > 3) {
    throw new KwbError(`--net ${spec}: hostfwd=${value}: give hostfwd=tcp:[ADDR:]HOSTPORT:GUESTPORT (or udp:...)`);
  }
  const hostAddr = parts.length === 3 ? parts[0]! : '127.0.0.1';
  if (!isIPv4(hostAddr)) throw new KwbError(`--net ${spec}: hostfwd=${value}: '${hostAddr}' is not an IPv4 address`);
  return { proto, hostAddr, hostPort: port(parts.at(-2), spec), guestPort: port(parts.at(-1), spec) };
}

function checkMac(mac: string, spec: string): string {
  if (!MAC.test(mac)) throw new KwbError(`--net ${spec}: mac=${mac}: give six hex bytes like 02:00:00:00:00:01`);
  if (parseInt(mac.slice(0, 2), 16) & 1) throw new KwbError(`--net ${spec}: mac=${mac} is a multicast address`);
  return mac.toLowerCase();
}

function checkIp(ip: string, spec: string): string {
  const m = /^([\d.]+)\/(\d+)$/.exec(ip);
  if (!m || !isIPv4(m[1]!) || Number(m[2]) < 1 || Number(m[2]) > 32) {
    throw new KwbError(`--net ${spec}: ip=${ip}: give an IPv4 address with its prefix, like 10.1.0.1/24`);
  }
  return ip;
}

export function parseNet(spec: string): NetSpec {
  const [head, ...rest] = spec.split(',');
  const settings = rest.map((item) => {
    const eq = item.indexOf('=');
    if (eq < 1) throw new KwbError(`--net ${spec}: '${item}' is not KEY=VALUE; ${SYNTAX}`);
    return [item.slice(0, eq), item.slice(eq + 1)] as const;
  });
  let mac: string | undefined;
  if (head === 'user') {
    const forwards: HostForward[] = [];
    for (const [key, value] of settings) {
      if (key === 'hostfwd') forwards.push(parseForward(value, spec));
      else if (key === 'mac') mac = checkMac(value, spec);
      else throw new KwbError(`--net ${spec}: unknown setting '${key}' for user; ${SYNTAX}`);
    }
    return { kind: 'user', forwards, mac };
  }
  const lan = /^lan=(.*)$/.exec(head ?? '');
  if (!lan) throw new KwbError(`--net ${spec}: unknown network '${head}'; ${SYNTAX}`);
  const name = lan[1]!;
  if (!LAN_NAME.test(name)) {
    throw new KwbError(`--net ${spec}: LAN name '${name}': up to 32 letters, digits, '.', '_' or '-'`);
  }
  let ip: string | undefined;
  for (const [key, value] of settings) {
    if (key === 'ip') ip = checkIp(value, spec);
    else if (key === 'mac') mac = checkMac(value, spec);
    else throw new KwbError(`--net ${spec}: unknown setting '${key}' for a LAN; ${SYNTAX}`);
  }
  return { kind: 'lan', name, ip, mac };
}

/** Checks that concern several --net together (and --pcap): one user network per guest, each host port forwarded
 *  once, a capture only of interfaces there are. */
export function checkNets(nets: readonly NetSpec[], pcap: string | undefined): void {
  if (pcap && !nets.length) throw new KwbError('--pcap needs a --net interface to record');
  if (nets.filter((n) => n.kind === 'user').length > 1) throw new KwbError('--net user: give it once per guest');
  const seen = new Set<string>();
  for (const n of nets) {
    for (const f of n.kind === 'user' ? n.forwards : []) {
      const key = `${f.proto}:${f.hostPort}`;
      if (seen.has(key)) throw new KwbError(`--net: host ${f.proto} port ${f.hostPort} is forwarded twice`);
      seen.add(key);
    }
  }
}

/** What kwb's init does with the guest's interface: bring it up with these settings. */
export interface NetSetup {
  device: string;
  mac: string;
  /** ADDR/PREFIX, none: the interface is only brought up. */
  address?: string;
  gateway?: string;
  dns?: string;
}

/** A locally administered unicast MAC, random unless given. */
function macFor(spec: NetSpec): string {
  if (spec.mac) return spec.mac;
  const b = randomBytes(4);
  return ['02', '6b', ...[...b].map((x) => x.toString(16).padStart(2, '0'))].join(':');
}

export function netSetups(nets: readonly NetSpec[]): NetSetup[] {
  return nets.map((spec, i) => {
    const device = `eth${i}`;
    const mac = macFor(spec);
    if (spec.kind === 'lan') return { device, mac, address: spec.ip };
    const u = USER_NET;
    return { device, mac, address: `${u.address}/${u.prefix}`, gateway: u.gateway, dns: u.dns };
  });
}

/** The kernel's own IP autoconfiguration parameter (CONFIG_IP_PNP) for one interface: how kwb addresses an rv64
 *  guest, which runs the user's init. */
export function kernelIpParam(setup: NetSetup): string {
  const [addr, prefix] = (setup.address ?? '').split('/');
  const bits = Number(prefix);
  const mask = [24, 16, 8, 0].map((s) => ((bits ? (0xffffffff << (32 - bits)) >>> 0 : 0) >>> s) & 0xff).join('.');
  return `ip=${addr}::${setup.gateway ?? ''}:${mask}::${setup.device}:off${setup.dns ? `:${setup.dns}` : ''}`;
}
