/** The types of proxy-from-env, which ships none. */
declare module 'proxy-from-env' {
  /** The proxy URL for `url` from HTTPS_PROXY / HTTP_PROXY / ALL_PROXY and NO_PROXY; '' for none. */
  export function getProxyForUrl(url: string | URL): string
}
