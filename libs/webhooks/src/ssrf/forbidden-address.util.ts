import { BlockList, isIP } from 'node:net';

/**
 * IPv4 ranges a webhook may never reach. Besides the loopback, private,
 * link-local (cloud metadata lives at 169.254.169.254) and multicast ranges of
 * SPEC §5, every range that is not globally routable is refused too: a public
 * receiver never lives there, so an address in one is a mistake or a probe of
 * Pixmill's own network.
 */
const FORBIDDEN_IPV4: [string, number][] = [
  ['0.0.0.0', 8], // "this network"; Linux connects 0.0.0.0 to the local host
  ['10.0.0.0', 8], // RFC 1918 private
  ['100.64.0.0', 10], // carrier-grade NAT, shared by the provider's customers
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata endpoints
  ['172.16.0.0', 12], // RFC 1918 private
  ['192.0.0.0', 24], // IETF protocol assignments (DS-Lite, NAT64 discovery)
  ['192.0.2.0', 24], // TEST-NET-1 documentation, never routed
  ['192.88.99.0', 24], // deprecated 6to4 relay anycast
  ['192.168.0.0', 16], // RFC 1918 private
  ['198.18.0.0', 15], // benchmarking, often used inside data centres
  ['198.51.100.0', 24], // TEST-NET-2 documentation
  ['203.0.113.0', 24], // TEST-NET-3 documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, includes broadcast 255.255.255.255
];

/**
 * IPv6 ranges refused inside global unicast 2000::/3 (everything outside it is
 * refused wholesale, see isForbiddenAddress).
 */
const FORBIDDEN_IPV6: [string, number][] = [
  ['2001::', 32], // Teredo: where it leads depends on a relay; no receiver is hosted there
  ['2001:2::', 48], // benchmarking
  ['2001:10::', 28], // ORCHID identifiers, not routable
  ['2001:20::', 28], // ORCHIDv2 identifiers, not routable
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation (RFC 9637)
];

const blockedV4 = new BlockList();
for (const [net, prefix] of FORBIDDEN_IPV4) blockedV4.addSubnet(net, prefix, 'ipv4');
const blockedV6 = new BlockList();
for (const [net, prefix] of FORBIDDEN_IPV6) blockedV6.addSubnet(net, prefix, 'ipv6');

const MASK_32 = 0xffffffffn;

/**
 * True when Pixmill must not send a webhook to this address. Anything that is
 * not a plain IP address (e.g. "0177.0.0.1", which the OS would read as octal)
 * is refused: callers pass resolved addresses, so a strange spelling is a bug
 * or an attack.
 */
export function isForbiddenAddress(ip: string): boolean {
  const address = ip.split('%')[0]; // a zone id ("fe80::1%eth0") says nothing about the range
  const family = isIP(address);
  if (family === 4) return blockedV4.check(address, 'ipv4');
  if (family !== 6) return true;

  const bits = ipv6ToBigInt(address);
  const embedded = embeddedIPv4(bits);
  if (embedded !== null) return isForbiddenAddress(embedded);
  // Only 2000::/3 is allocated for global unicast. Refusing the rest covers ::,
  // ::1, IPv4-compatible ::a.b.c.d, link-local fe80::/10, unique-local fc00::/7,
  // multicast ff00::/8, discard 100::/64 and local-use NAT64 64:ff9b:1::/48.
  if (bits >> 125n !== 1n) return true;
  return blockedV6.check(address, 'ipv6');
}

/**
 * The IPv4 address an IPv6 address stands for, where the network would carry
 * the packet to that IPv4 host: IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96
 * and 6to4 2002::/16.
 */
function embeddedIPv4(bits: bigint): string | null {
  if (bits >> 32n === 0xffffn) return bigIntToIPv4(bits & MASK_32);
  if (bits >> 32n === 0x64ff9bn << 64n) return bigIntToIPv4(bits & MASK_32);
  if (bits >> 112n === 0x2002n) return bigIntToIPv4((bits >> 80n) & MASK_32);
  return null;
}

/** Parses an address that net.isIP already accepted as IPv6. */
function ipv6ToBigInt(address: string): bigint {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = rest ? rest.split(':') : [];
  const zeros = rest === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...tailGroups];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

function bigIntToIPv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => Number((value >> shift) & 0xffn)).join('.');
}
