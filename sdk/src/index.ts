export { createAuthClient, type AuthClient, type AuthClientOptions } from "./client";
export { AuthError } from "./errors";
export type { AuthEvent, AuthListener, Session } from "./session";
export { memoryStorage, type AuthStorage } from "./storage";
export type { Body, MfaChallenge, Ok, Path, Problem, Query, Schemas, TokenPair, TokenResponse, User } from "./types";
