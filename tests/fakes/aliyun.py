"""A fake Aliyun SendSms endpoint that checks V3 signatures as Aliyun does."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import random
import re
import uuid
from collections.abc import Mapping
from urllib.parse import parse_qsl, quote

from tests.fakes.base import FakeProvider, Received, Reply

# The signature is checked over the query and headers as they arrived, by
# code that shares nothing with the adapter's signer.
WINDOW_SECONDS = 15 * 60
NUMBER = re.compile(r"\d{8,15}")


def aliyun_reply(code: str, message: str, status: int = 200) -> Reply:
    """Aliyun's JSON shape for a result `code`.

    Which HTTP status goes with which code is not documented; the fake
    answers business codes with 200 and gateway codes with 400.
    """
    request_id = str(uuid.uuid4()).upper()
    return Reply(status, {"Code": code, "Message": message, "RequestId": request_id})


def expected_signature(
    secret: str,
    method: str,
    path: str,
    raw_query: str,
    headers: Mapping[str, str],
    signed_names: list[str],
    body: bytes,
) -> str:
    """Recompute an ACS3-HMAC-SHA256 signature from a request as received."""

    def encode(text: str) -> str:
        return quote(text, safe="~-._")

    pairs = sorted(
        (encode(key), encode(value))
        for key, value in parse_qsl(raw_query, keep_blank_values=True)
    )
    lines = [
        method,
        path,
        "&".join(key + "=" + value for key, value in pairs),
        "".join(name + ":" + headers[name].strip() + "\n" for name in signed_names),
        ";".join(signed_names),
        hashlib.sha256(body).hexdigest(),
    ]
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    to_sign = "ACS3-HMAC-SHA256\n" + digest
    return hmac.new(secret.encode(), to_sign.encode(), "sha256").hexdigest()


class FakeAliyun(FakeProvider):
    """Serves SendSms for one access key, one sign name and its templates.

    `templates` maps a template code to the variables it needs. `sent` holds
    every message accepted; `clock_skew` moves the fake's clock.
    """

    def __init__(
        self,
        access_key_id: str = "LTAI5tFakeAccessKey01",
        access_key_secret: str = "fake-aliyun-secret-6c0d",
        sign_name: str = "运维告警",
        templates: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        super().__init__()
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sign_name = sign_name
        self.templates = dict(templates or {"SMS_154950909": ("host", "disk")})
        self.clock_skew = 0.0
        self.sent: list[dict[str, str]] = []
        self._nonces: set[str] = set()

    def respond(self, received: Received) -> Reply:
        if received.method != "POST" or received.path != "/":
            return aliyun_reply(
                "InvalidApi.NotFound", "Specified api is not found.", 404
            )
        refused = self._check_request(received)
        if refused is not None:
            return refused
        params = dict(parse_qsl(received.raw_query, keep_blank_values=True))
        refused = self._check_params(params)
        if refused is not None:
            return refused
        scripted = self.scripted()
        if scripted is not None:
            return scripted
        return self._accept(params)

    # -- the gateway: action, signature, time, nonce --------------------

    def _check_request(self, received: Received) -> Reply | None:
        headers = received.headers
        if headers.get("x-acs-action") != "SendSms":
            return aliyun_reply("InvalidAction.NotFound", "Unknown action.", 400)
        if headers.get("x-acs-version") != "2017-05-25":
            return aliyun_reply("InvalidVersion", "Specified version is invalid.", 400)
        fields = _authorization(headers.get("authorization", ""))
        if fields is None:
            return aliyun_reply("IncompleteSignature", "Bad Authorization.", 400)
        if fields["Credential"] != self.access_key_id:
            return aliyun_reply(
                "InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404
            )
        refused = self._check_signature(received, fields)
        if refused is not None:
            return refused
        return self._check_freshness(headers)

    def _check_signature(
        self, received: Received, fields: dict[str, str]
    ) -> Reply | None:
        headers = received.headers
        names = fields["SignedHeaders"].split(";")
        required = {"host"} | {name for name in headers if name.startswith("x-acs-")}
        if not required <= set(names) or not set(names) <= set(headers):
            return aliyun_reply(
                "IncompleteSignature", "Every x-acs-* header must be signed.", 400
            )
        if (
            headers.get("x-acs-content-sha256")
            != hashlib.sha256(received.body).hexdigest()
        ):
            return aliyun_reply(
                "SignatureDoesNotMatch", "The content hash does not match.", 400
            )
        expected = expected_signature(
            self.access_key_secret,
            received.method,
            received.path,
            received.raw_query,
            headers,
            names,
            received.body,
        )
        if not hmac.compare_digest(expected, fields["Signature"]):
            return aliyun_reply(
                "SignatureDoesNotMatch",
                "Specified signature does not match our calculation.",
                400,
            )
        return None

    def _check_freshness(self, headers: Mapping[str, str]) -> Reply | None:
        try:
            sent_at = datetime.datetime.strptime(
                headers.get("x-acs-date", ""), "%Y-%m-%dT%H:%M:%SZ"
            ).replace(tzinfo=datetime.UTC)
        except ValueError:
            return aliyun_reply("InvalidTimeStamp.Format", "Bad x-acs-date.", 400)
        now = datetime.datetime.now(datetime.UTC).timestamp() + self.clock_skew
        if abs(now - sent_at.timestamp()) > WINDOW_SECONDS:
            return aliyun_reply(
                "InvalidTimeStamp.Expired", "Specified time stamp is expired.", 400
            )
        nonce = headers.get("x-acs-signature-nonce", "")
        with self._lock:
            if not nonce or nonce in self._nonces:
                return aliyun_reply(
                    "SignatureNonceUsed", "Specified signature nonce was used.", 400
                )
            self._nonces.add(nonce)
        return None

    # -- SendSms itself -------------------------------------------------

    def _check_params(self, params: dict[str, str]) -> Reply | None:
        for name in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not params.get(name):
                return aliyun_reply(f"Missing{name}", f"{name} is mandatory.", 400)
        if not all(NUMBER.fullmatch(n) for n in params["PhoneNumbers"].split(",")):
            return aliyun_reply("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        if params["SignName"] != self.sign_name:
            return aliyun_reply("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        needed = self.templates.get(params["TemplateCode"])
        if needed is None:
            return aliyun_reply("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        try:
            values = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return aliyun_reply("isv.INVALID_JSON_PARAM", "JSON参数不合法")
        if not isinstance(values, dict) or not all(
            isinstance(v, str) for v in values.values()
        ):
            return aliyun_reply(
                "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值"
            )
        if any(name not in values for name in needed):
            return aliyun_reply("isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量")
        return None

    def _accept(self, params: dict[str, str]) -> Reply:
        biz_id = f"{random.randrange(10**14, 10**15)}^0"
        with self._lock:
            self.sent.append({**params, "BizId": biz_id})
        return Reply(
            200,
            {
                "Code": "OK",
                "Message": "OK",
                "BizId": biz_id,
                "RequestId": str(uuid.uuid4()).upper(),
            },
        )


def _authorization(value: str) -> dict[str, str] | None:
    """The Credential, SignedHeaders and Signature of a V3 Authorization header."""
    algorithm, _, rest = value.partition(" ")
    if algorithm != "ACS3-HMAC-SHA256":
        return None
    fields = dict(part.split("=", 1) for part in rest.split(",") if "=" in part)
    if not {"Credential", "SignedHeaders", "Signature"} <= set(fields):
        return None
    return fields
