import ipaddr from 'ipaddr.js';

/** The greylisting key of an attempt: who (a network, not an address), from whom, to whom. */
export interface TripletKey {
  readonly client: string;
  readonly sender: string;
  readonly recipient: string;
}

/**
 * The client's network (Postgrey's --lookup-by-subnet): big senders retry from another address of
 * the same pool, so 192.0.2.17 and 192.0.2.99 are one client (/24), as are the addresses of one
 * IPv6 /64 (one site, RFC 6177).
 */
export function greylistClientKey(
  address: string,
  prefixLengths: { readonly ipv4: number; readonly ipv6: number },
): string {
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  const length = parsed.kind() === 'ipv4' ? prefixLengths.ipv4 : prefixLengths.ipv6;
  const bytes = parsed.toByteArray();
  const masked = bytes.map((byte, index) => {
    const bitsHere = Math.min(8, Math.max(0, length - index * 8));
    return byte & (0xff << (8 - bitsHere)) & 0xff;
  });
  return `${ipaddr.fromByteArray(masked).toString()}/${length}`;
}

/**
 * The sender as greylisting compares it (Postgrey's normalisation): case folded, BATV (prvs=…=)
 * and sub-address (+tag) parts dropped, digits collapsed, so VERP and SRS senders that change with
 * every message still match their retry. The null sender is "".
 */
export function greylistSenderKey(sender: string | null): string {
  if (sender === null || sender === '') return '';
  const lowered = sender.toLowerCase();
  const at = lowered.lastIndexOf('@');
  let local = at < 0 ? lowered : lowered.slice(0, at);
  const domain = at < 0 ? '' : lowered.slice(at + 1);
  local = local.replace(/^prvs=[^=]+=/, '');
  const plus = local.indexOf('+');
  if (plus > 0) local = local.slice(0, plus);
  local = local.replace(/\d+/g, '#');
  return `${local}@${domain}`;
}

export function greylistRecipientKey(recipient: string): string {
  return recipient.toLowerCase();
}
