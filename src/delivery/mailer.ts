import type { Config } from "../config";
import { providerPost } from "./http";

export type EmailMessage = { to: string; subject: string; text: string };

/** Sends one email; throws DeliveryError when the provider does not take it. */
export interface Mailer {
  send(message: EmailMessage): Promise<void>;
}

/**
 * Development delivery: one log line per message, naming the recipient and carrying the whole text
 * (code and link included), so a person or a test client can read it from the server log.
 * loadConfig refuses this provider outside development and test.
 */
export const consoleMailer: Mailer = {
  async send(message) {
    console.log(`[delivery] ${JSON.stringify({ channel: "email", ...message })}`);
  },
};

/** Resend's HTTP API (https://resend.com/docs/api-reference/emails/send-email). */
export function resendMailer(apiKey: string, from: string): Mailer {
  return {
    async send(message) {
      await providerPost("resend", "https://api.resend.com/emails", {
        headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
        body: JSON.stringify({ from, to: [message.to], subject: message.subject, text: message.text }),
      });
    },
  };
}

export function mailerFor(config: Config): Mailer {
  switch (config.mail.provider) {
    case "console":
      return consoleMailer;
    case "resend":
      return resendMailer(config.mail.resendApiKey!, config.mail.from);
  }
}
