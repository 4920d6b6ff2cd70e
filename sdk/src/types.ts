import type { components, paths } from "./api-types";

// Request and response types of the API, read off the generated OpenAPI types: nothing is written
// twice by hand.

export type Schemas = components["schemas"];
export type User = Schemas["User"];
export type TokenPair = Schemas["TokenPair"];
export type TokenResponse = Schemas["TokenResponse"];
export type Problem = Schemas["Problem"];

export type Method = "get" | "post" | "patch" | "delete";
export type Path = keyof paths;
type Op<P extends Path, M extends Method> = NonNullable<paths[P][M]>;
type Success = 200 | 201 | 202 | 204;

export type Body<P extends Path, M extends Method> = Op<P, M> extends { requestBody: { content: { "application/json": infer B } } } ? B : never;
export type Form<P extends Path, M extends Method> = Op<P, M> extends { requestBody: { content: { "multipart/form-data": infer B } } } ? B : never;
export type Query<P extends Path, M extends Method> = Op<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
export type Ok<P extends Path, M extends Method> = Op<P, M> extends { responses: infer R }
  ? { [S in keyof R & Success]: R[S] extends { content: { "application/json": infer J } } ? J : void }[keyof R & Success]
  : never;

/** A body whose `device_id` the client fills in from its storage (or the `deviceId` option). */
export type WithDevice<B> = Omit<B, "device_id"> & { device_id?: string };

/** The second-factor challenge a sign-in answers instead of tokens once the user has one. */
export type MfaChallenge = { mfa_required: true; mfa_token: string; methods: string[]; expires_in: number };
