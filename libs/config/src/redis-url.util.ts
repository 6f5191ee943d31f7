/** One node of a Redis Cluster named in REDIS_URL. */
export interface RedisNode {
  host: string;
  port: number;
}

const CLUSTER_SCHEME = 'redis-cluster://';

/**
 * The seed nodes of `redis-cluster://host:port,host:port,…` (a password, if any, as
 * `redis-cluster://:password@host:port,…`), or null for a plain `redis://` / `rediss://` URL.
 * Throws on a cluster URL that names no valid node.
 */
export function redisClusterNodes(url: string): { nodes: RedisNode[]; password?: string } | null {
  if (!url.startsWith(CLUSTER_SCHEME)) return null;
  let rest = url.slice(CLUSTER_SCHEME.length).replace(/\/+$/, '');
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    password = decodeURIComponent(rest.slice(0, at).replace(/^[^:]*:/, '')) || undefined;
    rest = rest.slice(at + 1);
  }
  const nodes = rest.split(',').map((hp) => {
    const m = /^([^\s:,/]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(hp.trim());
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error(`REDIS_URL: "${hp}" is not host:port`);
    return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  });
  if (!nodes.length) throw new Error('REDIS_URL: a redis-cluster:// URL names at least one host:port');
  return { nodes, password };
}
