// The HTTP delivery providers against faked endpoints: the exact request each provider's API expects,
// and every kind of failure (refusal, HTTP error, network error) raised as a DeliveryError that
// does not carry the message text.
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { DeliveryError } from "../../src/delivery/errors";
import { resendMailer } from "../../src/delivery/mailer";
import { bulkSmsBdSender, twilioSender } from "../../src/delivery/sms";

const TEXT = "Your sign-in code is 493817. It expires in 2 minutes.";
const TO = "+8801712345678";

let fetchSpy: MockInstance<typeof fetch>;
let answer: () => Response | Promise<Response>;

beforeEach(() => {
  answer = () => new Response("{}", { status: 200 });
  fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(async () => answer());
});

afterEach(() => {
  fetchSpy.mockRestore();
});

/** The one request the provider made: its URL, method, headers and body. */
function request(): { url: string; method: string | undefined; headers: Headers; body: unknown } {
  expect(fetchSpy).toHaveBeenCalledTimes(1);
  const [input, init] = fetchSpy.mock.calls[0]!;
  return { url: String(input), method: init?.method, headers: new Headers(init?.headers), body: init?.body };
}

function form(body: unknown): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body as URLSearchParams));
}

async function expectDeliveryError(work: Promise<void>): Promise<void> {
  const err = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DeliveryError);
  expect((err as Error).message).not.toContain("493817");
}

describe("BulkSMS BD", () => {
  const sender = () => bulkSmsBdSender("bd-api-key", "8809612345678");

  it("POSTs a form to /api/smsapi with the number without its +", async () => {
    answer = () => Response.json({ response_code: 202, message_id: 1, success_message: "SMS Submitted Successfully" });
    await sender().send({ to: TO, text: TEXT });
    const req = request();
    expect(req.url).toBe("https://bulksmsbd.net/api/smsapi");
    expect(req.method).toBe("POST");
    expect(req.headers.get("Content-Type")).toBe("application/x-www-form-urlencoded");
    expect(form(req.body)).toEqual({
      api_key: "bd-api-key",
      type: "text",
      number: "8801712345678",
      senderid: "8809612345678",
      message: TEXT,
    });
  });

  it("a response_code other than 202 is a DeliveryError", async () => {
    answer = () => Response.json({ response_code: 1007, error_message: "Balance Insufficient" });
    await expectDeliveryError(sender().send({ to: TO, text: TEXT }));
  });

  it("an answer that is not JSON is a DeliveryError", async () => {
    answer = () => new Response("<html>maintenance</html>", { status: 200 });
    await expectDeliveryError(sender().send({ to: TO, text: TEXT }));
  });

  it("HTTP 500 is a DeliveryError", async () => {
    answer = () => new Response("oops", { status: 500 });
    await expectDeliveryError(sender().send({ to: TO, text: TEXT }));
  });

  it("a network error is a DeliveryError", async () => {
    answer = () => Promise.reject(new TypeError("Network connection lost."));
    await expectDeliveryError(sender().send({ to: TO, text: TEXT }));
  });
});

describe("Twilio", () => {
  const sender = () => twilioSender("AC0123456789abcdef", "auth-token", "+15005550006");

  it("POSTs a form to the account's Messages resource with basic auth", async () => {
    answer = () => Response.json({ sid: "SM1", status: "queued" }, { status: 201 });
    await sender().send({ to: TO, text: TEXT });
    const req = request();
    expect(req.url).toBe("https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef/Messages.json");
    expect(req.method).toBe("POST");
    expect(req.headers.get("Authorization")).toBe(`Basic ${btoa("AC0123456789abcdef:auth-token")}`);
    expect(req.headers.get("Content-Type")).toBe("application/x-www-form-urlencoded");
    expect(form(req.body)).toEqual({ To: TO, From: "+15005550006", Body: TEXT });
  });

  it("HTTP 400 and 500 are DeliveryErrors", async () => {
    answer = () => Response.json({ code: 21211, message: "Invalid 'To' Phone Number" }, { status: 400 });
    await expectDeliveryError(sender().send({ to: TO, text: TEXT }));
    answer = () => new Response("oops", { status: 500 });
    await expectDeliveryError(sender().send({ to: TO, text: TEXT }));
  });

  it("a network error is a DeliveryError", async () => {
    answer = () => Promise.reject(new TypeError("Network connection lost."));
    await expectDeliveryError(sender().send({ to: TO, text: TEXT }));
  });
});

describe("Resend (email)", () => {
  const mailer = () => resendMailer("re_test_key", "edge-auth <no-reply@example.com>");
  const message = { to: "ada@example.com", subject: "Verify your email address", text: TEXT };

  it("POSTs JSON to /emails with a Bearer key", async () => {
    answer = () => Response.json({ id: "email-1" });
    await mailer().send(message);
    const req = request();
    expect(req.url).toBe("https://api.resend.com/emails");
    expect(req.method).toBe("POST");
    expect(req.headers.get("Authorization")).toBe("Bearer re_test_key");
    expect(req.headers.get("Content-Type")).toBe("application/json");
    expect(JSON.parse(req.body as string)).toEqual({
      from: "edge-auth <no-reply@example.com>",
      to: ["ada@example.com"],
      subject: "Verify your email address",
      text: TEXT,
    });
  });

  it("HTTP 422 and a network error are DeliveryErrors", async () => {
    answer = () => Response.json({ name: "validation_error" }, { status: 422 });
    await expectDeliveryError(mailer().send(message));
    answer = () => Promise.reject(new TypeError("Network connection lost."));
    await expectDeliveryError(mailer().send(message));
  });
});
