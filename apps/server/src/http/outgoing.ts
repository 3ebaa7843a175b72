/**
 * A wire type as a route sends it: the same shape, read-only all the way down, as the mailbox's
 * types are. Checking a response against it makes the compiler hold the routes to http/schemas.
 */
export type Outgoing<T> = T extends readonly (infer Item)[]
  ? readonly Outgoing<Item>[]
  : T extends object
    ? { readonly [Key in keyof T]: Outgoing<T[Key]> }
    : T;
