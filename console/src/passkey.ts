import { startAuthentication, startRegistration } from "@simplewebauthn/browser";
import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON } from "@simplewebauthn/browser";

// The WebAuthn ceremonies through @simplewebauthn/browser, which turns the server's JSON options into
// the ArrayBuffers navigator.credentials wants and the authenticator's answer back into JSON. The
// SDK's types (from the OpenAPI document) describe the same JSON; they differ only in how the
// extension results are typed, which is what `Answer` bridges.

type Answer<T> = Omit<T, "clientExtensionResults"> & { clientExtensionResults: Record<string, unknown> };

/** Asks the authenticator for a new passkey (navigator.credentials.create); send it to addPasskey. */
export async function createPasskey(options: object): Promise<Answer<RegistrationResponseJSON>> {
  const answer = await startRegistration({ optionsJSON: options as PublicKeyCredentialCreationOptionsJSON });
  return { ...answer, clientExtensionResults: { ...answer.clientExtensionResults } };
}

/** Asks the authenticator to sign the challenge (navigator.credentials.get); `challenge_id` stays with the caller. */
export async function usePasskey(options: object): Promise<Answer<AuthenticationResponseJSON>> {
  const { challenge_id: _, ...optionsJSON } = options as PublicKeyCredentialRequestOptionsJSON & { challenge_id?: string };
  const answer = await startAuthentication({ optionsJSON });
  return { ...answer, clientExtensionResults: { ...answer.clientExtensionResults } };
}
