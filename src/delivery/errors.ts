/** A provider refused or failed to take a message. The message text (codes) never goes in here. */
export class DeliveryError extends Error {
  constructor(provider: string, reason: string) {
    super(`${provider}: ${reason}`);
    this.name = "DeliveryError";
  }
}
