import { HeaderMatch, QueryParamMatch, RouteMatch } from '../model/spec-traffic';

/**
 * RouteMatch builders: a `routes[].match` of the spec as Envoy's RouteMatch, for an Envoy
 * sidecar or for a proxyless gRPC client (A28), which reads the same fields with two
 * differences: every call is a POST with no query string, and its catch-all prefix is "".
 */

/**
 * Regex is how a form writes a spec regex. Envoy matches the whole value; gRPC wraps the
 * regex in `^...$`, which binds to the first and last alternatives of `a|b` only, so its form
 * groups the regex first: `(?:a|b)` means the same whole-value match in both.
 */
type Regex = (regex: string) => string;
const asWritten: Regex = (regex) => regex;
const grouped: Regex = (regex) => `(?:${regex})`;

/** stringMatch is a StringMatcher for one value condition (exact, prefix or RE2 regex). */
function stringMatch(m: HeaderMatch | QueryParamMatch, regex: Regex = asWritten): Record<string, unknown> | undefined {
  if (m.exact !== undefined) return { exact: m.exact };
  if (m.prefix !== undefined) return { prefix: m.prefix };
  if (m.regex !== undefined) return { safe_regex: { regex: regex(m.regex) } };
  return undefined;
}

function headerMatcher(h: HeaderMatch, regex: Regex = asWritten): Record<string, unknown> {
  const value = stringMatch(h, regex);
  return { name: h.name, ...(value ? { string_match: value } : { present_match: true }), ...(h.invert ? { invert_match: true } : {}) };
}

function queryParameterMatcher(q: QueryParamMatch): Record<string, unknown> {
  const value = stringMatch(q);
  return { name: q.name, ...(value ? { string_match: value } : { present_match: true }) };
}

/** pathSpecifier is the RouteMatch's path condition: a prefix (every path when none is given), an exact path or an RE2 regex on the whole path. */
function pathSpecifier(match: RouteMatch, catchAll: string, regex: Regex = asWritten): Record<string, unknown> {
  if (match.exactPath !== undefined) return { path: match.exactPath };
  if (match.regex !== undefined) return { safe_regex: { regex: regex(match.regex) } };
  return { prefix: match.pathPrefix ?? catchAll };
}

/** envoyRouteMatch is the match of one spec route for an Envoy sidecar; the method is the `:method` pseudo-header. */
export function envoyRouteMatch(match: RouteMatch): Record<string, unknown> {
  const headers = [...(match.method ? [{ name: ':method', string_match: { exact: match.method } }] : []), ...(match.headers ?? []).map((h) => headerMatcher(h))];
  return {
    ...pathSpecifier(match, '/'),
    ...(headers.length > 0 ? { headers } : {}),
    ...(match.queryParams ? { query_parameters: match.queryParams.map((q) => queryParameterMatcher(q)) } : {}),
  };
}

/**
 * proxylessRouteMatch is the match of one spec route for a gRPC client, or undefined when no
 * gRPC call can match it (a method other than POST, a query parameter): the route is left out.
 * A POST condition always holds, so it is dropped.
 */
export function proxylessRouteMatch(match: RouteMatch): Record<string, unknown> | undefined {
  if ((match.method !== undefined && match.method !== 'POST') || match.queryParams !== undefined) return undefined;
  const headers = (match.headers ?? []).map((h) => headerMatcher(h, grouped));
  return { ...pathSpecifier(match, '', grouped), ...(headers.length > 0 ? { headers } : {}) };
}
