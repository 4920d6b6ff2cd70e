import type { Context } from "hono";

/**
 * Sets headers on the finished response in place. Hono's `c.header()` after `next()` copies the
 * whole Response each time (it cannot know the headers are mutable), which the profile of
 * `/users/me` showed as a sixth of its CPU; every response here is built by this Worker, so its
 * headers are mutable, and a copy is made only if they are not.
 */
export function setFinalHeaders(c: Context, set: (headers: Headers) => void): void {
  try {
    set(c.res.headers);
  } catch {
    c.res = new Response(c.res.body, c.res);
    set(c.res.headers);
  }
}
