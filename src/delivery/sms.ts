import type { Config } from "../config";
import { DeliveryError } from "./errors";
import { providerPost } from "./http";

/** `to` is E.164 (`+8801712345678`). */
export type SmsMessage = { to: string; text: string };

/** Sends one SMS; throws DeliveryError when the provider does not take it. */
export interface SmsSender {
  send(message: SmsMessage): Promise<void>;
}

/** Development delivery: one log line per message, like the console mailer. */
export const consoleSms: SmsSender = {
  async send(message) {
    console.log(`[delivery] ${JSON.stringify({ channel: "sms", ...message })}`);
  },
};

/**
 * BulkSMS BD (bulksmsbd.net), an SMS gateway for Bangladesh: form POST to /api/smsapi with the
 * number without its `+`; it answers HTTP 200 with `response_code` 202 when the SMS was accepted.
 */
export function bulkSmsBdSender(apiKey: string, senderId: string): SmsSender {
  return {
    async send(message) {
      const res = await providerPost("bulksmsbd", "https://bulksmsbd.net/api/smsapi", {
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          api_key: apiKey,
          type: "text",
          number: message.to.replace(/^\+/, ""),
          senderid: senderId,
          message: message.text,
        }),
      });
      const body = (await res.json().catch(() => null)) as { response_code?: number } | null;
      if (body?.response_code !== 202) throw new DeliveryError("bulksmsbd", `response_code ${String(body?.response_code)}`);
    },
  };
}

/** Twilio Programmable Messaging: form POST to the account's Messages resource with basic auth. */
export function twilioSender(accountSid: string, authToken: string, from: string): SmsSender {
  return {
    async send(message) {
      await providerPost("twilio", `https://api.twilio.com/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`, {
        headers: {
          Authorization: `Basic ${btoa(`${accountSid}:${authToken}`)}`,
          "Content-Type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ To: message.to, From: from, Body: message.text }),
      });
    },
  };
}

export function smsSenderFor(config: Config): SmsSender {
  const { sms } = config;
  switch (sms.provider) {
    case "console":
      return consoleSms;
    case "bulksmsbd":
      return bulkSmsBdSender(sms.bulksmsbd!.apiKey, sms.bulksmsbd!.senderId);
    case "twilio":
      return twilioSender(sms.twilio!.accountSid, sms.twilio!.authToken, sms.twilio!.from);
  }
}
