"""SMS through Aliyun (Alibaba Cloud) SendSms, signed with ACS3-HMAC-SHA256.

Aliyun sends no free text: the message is a template approved on Aliyun's
side, filled with the notification's context (`TemplateParam`).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging
import re
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from adapters import register
from adapters.base import (
    ChannelAdapter,
    DeliveryError,
    DeliveryResult,
    Envelope,
    RateLimit,
    check_base_url,
    excerpt,
)
from adapters.http import HttpClient, HttpReply
from adapters.phone import clean_phone_number

logger = logging.getLogger(__name__)

ACTION = "SendSms"
VERSION = "2017-05-25"
ALGORITHM = "ACS3-HMAC-SHA256"
API_DOMAIN = "aliyuncs.com"
ACCESS_KEY_ID = re.compile(r"[A-Za-z0-9._-]{8,128}")
TEMPLATE_CODE = re.compile(r"[A-Za-z0-9_]{1,64}")
REGION_ID = re.compile(r"[a-z]{2,}(-[a-z0-9]+)+")

# SendSms result codes, with what a retry can do about each: (permanent,
# seconds to wait, message). From Aliyun's SendSms API reference and its
# error code page (help.aliyun.com/document_detail/101346.html), and the
# gateway's codes for signed requests (the V3 signature document).
ERRORS: dict[str, tuple[bool, float | None, str]] = {
    "isp.SYSTEM_ERROR": (False, None, "Aliyun had an internal error."),
    # The retry signs with a fresh nonce.
    "SignatureNonceUsed": (False, None, "Aliyun had already seen this nonce."),
    # Minute level; hour and day levels are told apart by `_throttled`.
    "isv.BUSINESS_LIMIT_CONTROL": (
        False,
        60.0,
        "Aliyun throttled sends to this number (per-minute limit).",
    ),
    "isv.MOBILE_NUMBER_ILLEGAL": (True, None, "Aliyun refused the phone number."),
    "isv.SMS_SIGNATURE_ILLEGAL": (
        True,
        None,
        "Aliyun refused the sign name (not approved, or not this account's).",
    ),
    "isv.SMS_TEMPLATE_ILLEGAL": (
        True,
        None,
        "Aliyun refused the template code (not approved, or not this account's).",
    ),
    "isv.TEMPLATE_MISSING_PARAMETERS": (
        True,
        None,
        "The context lacks variables the Aliyun template needs.",
    ),
    "isv.INVALID_PARAMETERS": (True, None, "Aliyun refused a parameter as invalid."),
    "isv.INVALID_JSON_PARAM": (True, None, "Aliyun refused the template parameters."),
    "isv.DAY_LIMIT_CONTROL": (True, None, "The account's daily SMS limit is reached."),
    "isv.MONTH_LIMIT_CONTROL": (
        True,
        None,
        "The account's monthly SMS limit is reached.",
    ),
    "isv.OUT_OF_SERVICE": (True, None, "The Aliyun account is out of service."),
    "isv.AMOUNT_NOT_ENOUGH": (True, None, "The Aliyun account's balance is too low."),
    "isv.PRODUCT_UN_SUBSCRIPT": (True, None, "The account has not enabled Aliyun SMS."),
    "isv.PRODUCT_UNSUBSCRIBE": (True, None, "The account has not enabled Aliyun SMS."),
    "isv.ACCOUNT_NOT_EXISTS": (True, None, "Aliyun does not know the account."),
    "isv.ACCOUNT_ABNORMAL": (True, None, "Aliyun reports the account as abnormal."),
    "isv.BLACK_KEY_CONTROL_LIMIT": (
        True,
        None,
        "A template parameter holds a word Aliyun blocks.",
    ),
    "isv.PARAM_LENGTH_LIMIT": (True, None, "A template parameter is too long."),
    "isv.PARAM_NOT_SUPPORT_URL": (
        True,
        None,
        "Aliyun does not take a URL as a template parameter.",
    ),
    "isp.RAM_PERMISSION_DENY": (
        True,
        None,
        "The access key may not call SendSms (RAM permission).",
    ),
    "SignatureDoesNotMatch": (
        True,
        None,
        "Aliyun refused the signature; check the access key secret.",
    ),
    "InvalidAccessKeyId.NotFound": (True, None, "Aliyun does not know the access key."),
    # 15 minutes either way: this host's clock is off, and a retry soon
    # after carries the same error.
    "InvalidTimeStamp.Expired": (
        True,
        None,
        "Aliyun refused the request time; check this host's clock.",
    ),
}
DEAD_CREDENTIAL = {"SignatureDoesNotMatch", "InvalidAccessKeyId.NotFound"}
THROTTLED = "isv.BUSINESS_LIMIT_CONTROL"


def percent_encode(value: str) -> str:
    """RFC 3986 percent-encoding of UTF-8, as Aliyun canonicalises values."""
    return quote(value, safe="-_.~")


def canonical_query(params: Mapping[str, str]) -> str:
    """Sorted `key=value` pairs, both percent-encoded, joined by `&`."""
    pairs = sorted((percent_encode(k), percent_encode(v)) for k, v in params.items())
    return "&".join(f"{key}={value}" for key, value in pairs)


def signature_v3(
    secret: str,
    method: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes = b"",
    path: str = "/",
) -> str:
    """The hex ACS3-HMAC-SHA256 signature of a request over all of `headers`.

    `headers` are exactly the signed headers (host and every x-acs-* one);
    the caller lists the same names, sorted and lowercased, in
    `SignedHeaders` of the Authorization header.
    """
    lowered = {name.lower(): value.strip() for name, value in headers.items()}
    names = sorted(lowered)
    canonical = "\n".join(
        [
            method.upper(),
            path,
            canonical_query(query),
            "".join(f"{name}:{lowered[name]}\n" for name in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    string_to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    return hmac.new(
        secret.encode(), string_to_sign.encode(), hashlib.sha256
    ).hexdigest()


def aliyun_number(e164: str) -> str:
    """The number as SendSms takes it.

    Aliyun's reference shows mainland China numbers bare (13800138000) and
    others as country code and number without "+" (85200000000).
    """
    if e164.startswith("+86"):
        return e164[3:]
    return e164.lstrip("+")


def template_param(context: Mapping[str, Any]) -> str:
    """The context as the JSON string Aliyun fills the template with.

    Values are sent as strings: Aliyun's error list says TemplateParam takes
    string values ({"code": "123"}, not {"code": 123}).
    """
    values = {str(key): str(value) for key, value in context.items()}
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


@register
class AliyunSmsAdapter(ChannelAdapter):
    kind = "sms_aliyun"
    label = gettext_lazy("SMS (Aliyun)")
    config_required = ("access_key_id", "sign_name", "template_code")
    config_optional = {
        "endpoint": "https://dysmsapi.aliyuncs.com",
        "region_id": "cn-hangzhou",
    }
    secrets_required = ("access_key_secret",)
    # No request rate is documented for SendSms here; Aliyun limits each
    # recipient number itself (isv.BUSINESS_LIMIT_CONTROL). Ten a second is
    # a cautious default that still clears an alert storm within minutes.
    rate_limits = (RateLimit(10, 1),)
    # SendSms is not idempotent: after a lost reply, a resend may reach the
    # recipient twice, and costs twice.
    resend_after_unknown = False
    recipient_required = True
    body_required = False

    def validate_config(self, config: dict[str, Any], secrets: dict[str, str]) -> None:
        """Check each setting's shape; strip and normalise them in place."""
        errors: dict[str, list[str]] = {}
        for key, pattern, message in (
            ("access_key_id", ACCESS_KEY_ID, _("This is not an access key id.")),
            ("template_code", TEMPLATE_CODE, _("Expected a code such as SMS_123456.")),
            ("region_id", REGION_ID, _("Expected a region id such as cn-hangzhou.")),
        ):
            value = config[key]
            if not isinstance(value, str) or not pattern.fullmatch(value.strip()):
                errors[f"config.{key}"] = [message]
        if not isinstance(config["sign_name"], str) or not config["sign_name"].strip():
            errors["config.sign_name"] = [_("Give the sign name Aliyun approved.")]
        try:
            check_base_url(config["endpoint"], "config.endpoint", API_DOMAIN)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)

        for key in ("access_key_id", "sign_name", "template_code", "region_id"):
            config[key] = config[key].strip()
        config["endpoint"] = config["endpoint"].rstrip("/")

    def clean_recipient(self, recipient: str) -> str:
        recipient = super().clean_recipient(recipient)
        return clean_phone_number(recipient, "recipient")

    def validate_context(self, context: Mapping[str, Any]) -> None:
        """The context is Aliyun's TemplateParam: a flat object of scalars."""
        if not isinstance(context, Mapping):
            raise ValidationError({"context": [_("Give the template's variables.")]})
        errors: dict[str, list[str]] = {}
        for key, value in context.items():
            if not isinstance(key, str) or not key:
                errors["context"] = [_("Variable names must be non-empty strings.")]
            elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
                errors[f"context.{key}"] = [
                    _("An Aliyun template variable takes a string or a number.")
                ]
        if errors:
            raise ValidationError(errors)

    def send(self, envelope: Envelope, http: HttpClient) -> DeliveryResult:
        secret = envelope.secrets["access_key_secret"]
        url, headers = signed_request(
            envelope, secret, datetime.datetime.now(datetime.UTC), uuid.uuid4().hex
        )
        # TODO: poll QuerySendDetails (or take Aliyun's receipts) by BizId;
        # until then "sent" means Aliyun accepted the message, not that the
        # handset got it.
        reply = http.post(url, data=b"", headers=headers, secrets=(secret,))
        return _result(reply, (secret,), envelope)


def send_params(envelope: Envelope) -> dict[str, str]:
    """SendSms's business parameters for one recipient."""
    config = envelope.config
    params = {
        "PhoneNumbers": aliyun_number(envelope.recipient),
        "SignName": config["sign_name"],
        "TemplateCode": config["template_code"],
        # Comes back in Aliyun's delivery receipts and console: lets an
        # operator find the notification a message belongs to.
        "OutId": str(envelope.notification_id),
    }
    if envelope.context:
        params["TemplateParam"] = template_param(envelope.context)
    return params


def signed_request(
    envelope: Envelope, secret: str, now: datetime.datetime, nonce: str
) -> tuple[str, dict[str, str]]:
    """The URL (parameters in the query, empty body) and the signed headers."""
    config = envelope.config
    endpoint = config["endpoint"].rstrip("/")
    params = send_params(envelope)
    signed = {
        # requests sends this same value, port included when not the default.
        "host": urlsplit(endpoint).netloc,
        "x-acs-action": ACTION,
        "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
        "x-acs-date": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-region-id": config.get("region_id") or "cn-hangzhou",
        "x-acs-signature-nonce": nonce,
        "x-acs-version": VERSION,
    }
    signature = signature_v3(secret, "POST", params, signed)
    authorization = (
        f"{ALGORITHM} Credential={config['access_key_id']},"
        f"SignedHeaders={';'.join(sorted(signed))},Signature={signature}"
    )
    headers = {**signed, "Authorization": authorization, "Accept": "application/json"}
    return f"{endpoint}/?{canonical_query(params)}", headers


def _result(
    reply: HttpReply, secrets: tuple[str, ...], envelope: Envelope
) -> DeliveryResult:
    """Decide from `Code`, whatever the HTTP status (Aliyun's is not documented)."""
    data = reply.json()
    shown = excerpt(reply.text, secrets)
    code = data.get("Code") if isinstance(data, dict) else None
    if not isinstance(code, str) or not code:
        raise _without_code(reply, shown, envelope)
    if code == "OK":
        biz_id = data.get("BizId")
        return DeliveryResult(
            provider_message_id=biz_id if isinstance(biz_id, str) else "",
            status_code=reply.status,
            provider_code=code,
            reply_excerpt=shown,
        )

    said = excerpt(str(data.get("Message", "")), secrets, 200)
    if code == THROTTLED:
        permanent, wait, message = _throttled(said)
    else:
        permanent, wait, message = ERRORS.get(code) or _unlisted(code, reply, said)
    raise DeliveryError(
        message,
        permanent=permanent,
        retry_after=wait,
        status_code=reply.status,
        provider_code=code,
        reply_excerpt=shown,
        credential_dead=code in DEAD_CREDENTIAL,
    )


def _throttled(said: str) -> tuple[bool, float | None, str]:
    """Tell Aliyun's minute, hour and day limits per number apart by its words.

    The wording is not documented in English: anything not recognisably
    hourly or daily is taken as the minute limit, the shortest wait.
    """
    lowered = said.lower()
    if "天级" in said or "day" in lowered:
        return (
            True,
            None,
            "Aliyun's daily limit of messages to this number is reached.",
        )
    if "小时级" in said or "hour" in lowered:
        return (
            False,
            3600.0,
            "Aliyun throttled sends to this number (per-hour limit).",
        )
    return ERRORS[THROTTLED]


def _unlisted(code: str, reply: HttpReply, said: str) -> tuple[bool, float | None, str]:
    """A code the table does not know: guess from its family, cautiously."""
    message = f"Aliyun refused the message ({code}): {said}"
    # Gateway throttling ("Throttling.User", ...) and errors on Aliyun's
    # side (isp.*, HTTP 5xx) are refusals a later attempt may get past.
    if code.startswith("Throttling"):
        return (False, 1.0, message)
    if code.startswith("isp.") or reply.status >= 500:
        return (False, None, message)
    return (True, None, message)


def _without_code(reply: HttpReply, shown: str, envelope: Envelope) -> DeliveryError:
    """A reply without Aliyun's JSON: a proxy's page, or a cut-off body."""
    details: dict[str, Any] = {"status_code": reply.status, "reply_excerpt": shown}
    if 200 <= reply.status < 300 or reply.status == 504:
        # Aliyun (or the gateway in front of it) got the request and we
        # cannot tell whether it sent the message.
        logger.warning(
            "Aliyun answered HTTP %d without a result code for notification %s",
            reply.status,
            envelope.notification_id,
        )
        return DeliveryError(
            f"Aliyun answered HTTP {reply.status} without a result code; the "
            "message may have been sent.",
            permanent=False,
            unknown=True,
            **details,
        )
    if reply.status >= 500 or reply.status == 429:
        return DeliveryError(
            f"Aliyun answered HTTP {reply.status}.",
            permanent=False,
            retry_after=reply.retry_after(),
            **details,
        )
    return DeliveryError(
        f"Aliyun answered HTTP {reply.status} without a result code.",
        permanent=True,
        **details,
    )
