// The one place test helpers live: every test file imports from here. Each module under helpers/
// holds one concept; importing this module also installs the console spy that reads delivered
// codes (helpers/outbox.ts). The fake Google (helpers/google-fake.ts) is imported on its own,
// by the files that need it, because it replaces globalThis.fetch when it loads.
export * from "./helpers/http";
export * from "./helpers/outbox";
export * from "./helpers/users";
export * from "./helpers/sessions";
export * from "./helpers/domain";
export * from "./helpers/stored";
export * from "./helpers/kyc";
export * from "./helpers/time";
export * from "./helpers/mfa";
export * from "./helpers/email-code";
export * from "./helpers/passkeys";
export * from "./helpers/cbor";
export * from "./helpers/step-up";
export * from "./helpers/erasure";
export * from "./helpers/account-changes";
