/**
 * git's credentials for `serverUrl` as environment (an http.extraheader through GIT_CONFIG_*), so a
 * token never lands in argv or .git/config. The Action passes its job token; the app an
 * installation token, asked for again before each fetch or push.
 */
export function gitAuthEnv(serverUrl: string, token: string): Record<string, string> {
  const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
  return { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: `http.${serverUrl}/.extraheader`, GIT_CONFIG_VALUE_0: `AUTHORIZATION: basic ${basic}` };
}
