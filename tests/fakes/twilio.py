"""A fake Twilio Messages API that checks requests as Twilio does."""

from __future__ import annotations

import base64
import binascii
import email.utils
import re
import uuid

from tests.fakes.base import FakeProvider, Received, Reply

MESSAGES_PATH = re.compile(r"/2010-04-01/Accounts/([^/]+)/Messages\.json")
E164 = re.compile(r"\+[1-9]\d{1,14}")
MAX_BODY_CHARS = 1600

# Twilio's HTTP status and wording for each error code the fake can answer.
CODES: dict[int, tuple[int, str]] = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    21211: (400, "The 'To' number is not a valid phone number."),
    21408: (400, "Permission to send an SMS has not been enabled for the region."),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21608: (400, "The number is unverified. Trial accounts cannot send to it."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21612: (400, "The 'To' phone number is not currently reachable via SMS."),
    21614: (400, "'To' number is not a valid mobile number"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
}


def twilio_error(code: int, headers: dict[str, str] | None = None) -> Reply:
    """Twilio's error reply for `code`, with its HTTP status."""
    status, message = CODES[code]
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return Reply(status, body, headers or {})


class FakeTwilio(FakeProvider):
    """Serves `/2010-04-01/Accounts/<sid>/Messages.json` for one account.

    `created` holds every message it accepted, so a test can count sends.
    """

    def __init__(
        self,
        account_sid: str = "AC" + "0123456789abcdef" * 2,
        auth_token: str = "fake-twilio-auth-token-5e1f",
    ) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.created: list[dict[str, object]] = []

    def respond(self, received: Received) -> Reply:
        match = MESSAGES_PATH.fullmatch(received.path)
        if received.method != "POST" or match is None:
            return twilio_error(20404)
        if not self._authorized(received, match.group(1)):
            return twilio_error(20003)
        form = {key: values[-1] for key, values in received.form().items()}
        refused = _refusal(form)
        if refused is not None:
            return twilio_error(refused)
        scripted = self.scripted()
        if scripted is not None:
            return scripted
        return Reply(201, self._create(form))

    def _authorized(self, received: Received, path_sid: str) -> bool:
        scheme, _, encoded = received.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return (user, password, path_sid) == (
            self.account_sid,
            self.auth_token,
            self.account_sid,
        )

    def _create(self, form: dict[str, str]) -> dict[str, object]:
        sid = "SM" + uuid.uuid4().hex
        service = form.get("MessagingServiceSid")
        message = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form["Body"],
            "date_created": email.utils.formatdate(usegmt=True),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            # With a messaging service Twilio picks the sender later.
            "status": "accepted" if service else "queued",
            "to": form["To"],
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        with self._lock:
            self.created.append(message)
        return message


def _refusal(form: dict[str, str]) -> int | None:
    """The error code Twilio gives a form it will not take, or None."""
    if not form.get("To"):
        return 21604
    if not form.get("From") and not form.get("MessagingServiceSid"):
        return 21603
    if not form.get("Body"):
        return 21602
    if not E164.fullmatch(form["To"]):
        return 21211
    if len(form["Body"]) > MAX_BODY_CHARS:
        return 21617
    return None
