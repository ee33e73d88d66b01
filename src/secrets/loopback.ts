/**
 * Loopback hosts: the only ones the key may be sent to over http://, and never through a proxy,
 * since a proxy would carry the key in clear to a request that never needed to leave the machine.
 */
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i

/** `hostname` as URL.hostname gives it (IPv6 in brackets). */
export function isLoopback(hostname: string): boolean {
  return LOOPBACK.test(hostname)
}
