import ipaddr from 'ipaddr.js';

/**
 * A set of IPv4/IPv6 addresses and CIDR ranges. ipaddr.js (pure JS, no dependencies) parses them,
 * and maps IPv4-mapped IPv6 clients (::ffff:192.0.2.1, as dual-stack sockets report them) back to
 * IPv4 so `192.0.2.0/24` matches them.
 */
export interface NetworkList {
  contains(address: string): boolean;
}

/** Answers remembered per list: a relay asks for every message of the same few clients. */
const maxRememberedAnswers = 4096;

export function createNetworkList(entries: readonly string[]): NetworkList {
  const ranges = entries.map((entry) => {
    if (ipaddr.isValidCIDR(entry)) return ipaddr.parseCIDR(entry);
    const address = ipaddr.parse(entry); // throws for input the config schema already refused
    return [address, address.kind() === 'ipv4' ? 32 : 128] as [ipaddr.IPv4 | ipaddr.IPv6, number];
  });
  const matches = (address: string): boolean => {
    if (!ipaddr.isValid(address)) return false; // a Unix socket path or an unknown peer
    const client = ipaddr.process(address);
    return ranges.some(
      ([network, prefixLength]) =>
        network.kind() === client.kind() && client.match(network as never, prefixLength),
    );
  };
  const answers = new Map<string, boolean>();
  return {
    contains(address) {
      let answer = answers.get(address);
      if (answer === undefined) {
        answer = matches(address);
        if (answers.size >= maxRememberedAnswers) answers.clear();
        answers.set(address, answer);
      }
      return answer;
    },
  };
}
