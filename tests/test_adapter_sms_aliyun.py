"""The Aliyun SMS adapter against a fake SendSms endpoint."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from adapters import get_adapter
from adapters.base import DeliveryError, DeliveryResult, Envelope
from adapters.http import HttpClient
from adapters.sms_aliyun import aliyun_number, signature_v3
from notifications.models import Channel, DeliveryAttempt, Notification, Status
from notifications.services import NotificationSpec, create_notification
from tests import adapter_checks as checks
from tests.envelopes import envelope
from tests.fakes.aliyun import FakeAliyun, aliyun_reply, expected_signature
from tests.fakes.base import Reply

adapter = get_adapter("sms_aliyun")
RECIPIENT = "+8613800138000"
CONTEXT = {"host": "db-1", "disk": "95%"}

# Aliyun's V3 signature document, as quoted in shared/providers.md.
VECTOR_QUERY = {
    "ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
    "RegionId": "cn-shanghai",
}
VECTOR_HEADERS = {
    "host": "ecs.cn-shanghai.aliyuncs.com",
    "x-acs-action": "RunInstances",
    "x-acs-version": "2014-05-26",
    "x-acs-date": "2023-10-26T10:22:32Z",
    "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
    "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
}
VECTOR_SIGNATURE = "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"


def to(fake: FakeAliyun, config: dict | None = None, **fields: object) -> Envelope:
    fields.setdefault("recipient", RECIPIENT)
    fields.setdefault("context", CONTEXT)
    return envelope(
        config={
            "access_key_id": fake.access_key_id,
            "sign_name": fake.sign_name,
            "template_code": "SMS_154950909",
            "endpoint": fake.base_url,
            "region_id": "cn-hangzhou",
            **(config or {}),
        },
        secrets={"access_key_secret": fake.access_key_secret},
        **fields,
    )


def send(
    fake: FakeAliyun, read_timeout: float = 5.0, **fields: object
) -> DeliveryResult:
    return adapter.send(to(fake, **fields), HttpClient(read_timeout=read_timeout))


def failure(
    fake: FakeAliyun, read_timeout: float = 5.0, **fields: object
) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        send(fake, read_timeout, **fields)
    return caught.value


def clean(config: dict) -> dict:
    cleaned, _ = adapter.clean_config(config, {"access_key_secret": "s" * 30})
    return cleaned


# -- signing -------------------------------------------------------------------


def test_the_v3_signature_matches_aliyuns_documented_vector() -> None:
    signature = signature_v3(
        "YourAccessKeySecret", "POST", VECTOR_QUERY, VECTOR_HEADERS
    )

    assert signature == VECTOR_SIGNATURE


def test_the_fakes_signature_check_matches_aliyuns_documented_vector() -> None:
    # The fake checks requests with its own code; it must agree with Aliyun.
    signature = expected_signature(
        "YourAccessKeySecret",
        "POST",
        "/",
        "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"
        "&RegionId=cn-shanghai",
        VECTOR_HEADERS,
        sorted(VECTOR_HEADERS),
        b"",
    )

    assert signature == VECTOR_SIGNATURE


def test_sends_a_signed_sendsms_request_the_fake_accepts(
    fake_aliyun: FakeAliyun,
) -> None:
    result = send(fake_aliyun)

    accepted = fake_aliyun.sent[0]
    assert accepted["PhoneNumbers"] == "13800138000"
    assert accepted["SignName"] == "运维告警"
    assert accepted["TemplateCode"] == "SMS_154950909"
    assert json.loads(accepted["TemplateParam"]) == CONTEXT
    assert accepted["OutId"] == str(to(fake_aliyun).notification_id)
    assert result.provider_message_id == accepted["BizId"]
    assert result.provider_code == "OK"


def test_signs_every_aliyun_header_and_sends_the_action_and_region(
    fake_aliyun: FakeAliyun,
) -> None:
    send(fake_aliyun, config={"region_id": "cn-shanghai"})

    headers = fake_aliyun.requests[0].headers
    assert headers["x-acs-action"] == "SendSms"
    assert headers["x-acs-version"] == "2017-05-25"
    assert headers["x-acs-region-id"] == "cn-shanghai"
    assert headers["authorization"].startswith(
        f"ACS3-HMAC-SHA256 Credential={fake_aliyun.access_key_id},SignedHeaders=host;"
        "x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-region-id;"
        "x-acs-signature-nonce;x-acs-version,Signature="
    )


def test_a_wrong_secret_fails_the_signature_check_and_flags_the_credential(
    fake_aliyun: FakeAliyun,
) -> None:
    wrong = dataclasses.replace(
        to(fake_aliyun), secrets={"access_key_secret": "not-the-secret-1234"}
    )

    with pytest.raises(DeliveryError) as caught:
        adapter.send(wrong, HttpClient())

    assert caught.value.provider_code == "SignatureDoesNotMatch"
    assert caught.value.permanent
    assert caught.value.credential_dead
    assert fake_aliyun.sent == []


def test_a_reused_nonce_is_transient_and_the_retry_signs_with_a_fresh_one(
    fake_aliyun: FakeAliyun,
) -> None:
    fake_aliyun.fail_next(aliyun_reply("SignatureNonceUsed", "used", 400))

    error = failure(fake_aliyun)
    send(fake_aliyun)

    assert not error.permanent
    first, second = (r.headers["x-acs-signature-nonce"] for r in fake_aliyun.requests)
    assert first != second
    assert len(fake_aliyun.sent) == 1


def test_a_clock_off_by_more_than_fifteen_minutes_is_a_permanent_failure(
    fake_aliyun: FakeAliyun,
) -> None:
    fake_aliyun.clock_skew = 16 * 60

    error = failure(fake_aliyun)

    assert error.provider_code == "InvalidTimeStamp.Expired"
    assert error.permanent


# -- phone numbers and template parameters ------------------------------------


@pytest.mark.parametrize(
    ("e164", "sent"),
    [
        ("+8613800138000", "13800138000"),
        ("+85291234567", "85291234567"),
        ("+886912345678", "886912345678"),
        ("+14155550100", "14155550100"),
    ],
)
def test_sends_mainland_numbers_bare_and_others_with_their_country_code(
    e164: str, sent: str
) -> None:
    assert aliyun_number(e164) == sent


def test_an_international_number_reaches_the_fake_with_its_country_code(
    fake_aliyun: FakeAliyun,
) -> None:
    send(fake_aliyun, recipient="+85291234567")

    assert fake_aliyun.sent[0]["PhoneNumbers"] == "85291234567"


def test_numbers_in_the_context_are_sent_as_strings(fake_aliyun: FakeAliyun) -> None:
    send(fake_aliyun, context={"host": "db-1", "disk": 95})

    assert json.loads(fake_aliyun.sent[0]["TemplateParam"]) == {
        "host": "db-1",
        "disk": "95",
    }


def test_a_context_missing_a_template_variable_is_a_permanent_failure(
    fake_aliyun: FakeAliyun,
) -> None:
    error = failure(fake_aliyun, context={"host": "db-1"})

    assert error.provider_code == "isv.TEMPLATE_MISSING_PARAMETERS"
    assert error.permanent


@pytest.mark.parametrize(
    ("context", "field"),
    [
        ({"host": {"name": "db-1"}}, "context.host"),
        ({"host": ["db-1"]}, "context.host"),
        ({"host": None}, "context.host"),
        ({"host": True}, "context.host"),
    ],
)
def test_refuses_a_context_that_is_not_a_flat_object_of_scalars(
    context: dict, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.validate_context(context)

    assert field in caught.value.message_dict


# -- what Aliyun answers -------------------------------------------------------

# Written out from shared/providers.md rather than read from the adapter's
# table, so the table has to agree with the document to pass.
DOCUMENTED = {
    "isp.SYSTEM_ERROR": False,
    "SignatureNonceUsed": False,
    "isv.BUSINESS_LIMIT_CONTROL": False,
    "isv.MOBILE_NUMBER_ILLEGAL": True,
    "isv.SMS_SIGNATURE_ILLEGAL": True,
    "isv.SMS_TEMPLATE_ILLEGAL": True,
    "isv.TEMPLATE_MISSING_PARAMETERS": True,
    "isv.INVALID_PARAMETERS": True,
    "isv.DAY_LIMIT_CONTROL": True,
    "isv.MONTH_LIMIT_CONTROL": True,
    "isv.OUT_OF_SERVICE": True,
    "isv.AMOUNT_NOT_ENOUGH": True,
    "isp.RAM_PERMISSION_DENY": True,
    "SignatureDoesNotMatch": True,
    "InvalidTimeStamp.Expired": True,
}


# Which HTTP status Aliyun pairs with each code is not documented: the
# outcome must follow the code alone.
@pytest.mark.parametrize("status", [200, 400])
@pytest.mark.parametrize(("code", "permanent"), sorted(DOCUMENTED.items()))
def test_classifies_each_documented_code_whatever_the_http_status(
    fake_aliyun: FakeAliyun, code: str, permanent: bool, status: int
) -> None:
    fake_aliyun.fail_next(aliyun_reply(code, "refused", status))

    error = failure(fake_aliyun)

    assert error.permanent is permanent
    assert error.unknown is False
    assert error.provider_code == code
    assert error.status_code == status


def test_ok_is_a_success_whatever_the_http_status(fake_aliyun: FakeAliyun) -> None:
    fake_aliyun.fail_next(
        Reply(202, {"Code": "OK", "Message": "OK", "BizId": "900619746936^0"})
    )

    assert send(fake_aliyun).provider_message_id == "900619746936^0"


def test_a_per_minute_limit_waits_at_least_a_minute(fake_aliyun: FakeAliyun) -> None:
    fake_aliyun.fail_next(
        aliyun_reply("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")
    )

    error = failure(fake_aliyun)

    assert not error.permanent
    assert error.retry_after >= 60


def test_a_per_hour_limit_waits_an_hour(fake_aliyun: FakeAliyun) -> None:
    fake_aliyun.fail_next(
        aliyun_reply("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5")
    )

    error = failure(fake_aliyun)

    assert not error.permanent
    assert error.retry_after >= 3600


def test_a_per_day_limit_fails_rather_than_send_a_day_late(
    fake_aliyun: FakeAliyun,
) -> None:
    fake_aliyun.fail_next(
        aliyun_reply("isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10")
    )

    assert failure(fake_aliyun).permanent


def test_a_limit_in_words_it_does_not_know_still_waits_a_minute(
    fake_aliyun: FakeAliyun,
) -> None:
    fake_aliyun.fail_next(aliyun_reply("isv.BUSINESS_LIMIT_CONTROL", "flow control"))

    error = failure(fake_aliyun)

    assert not error.permanent
    assert error.retry_after >= 60


@pytest.mark.parametrize(
    ("code", "status", "permanent"),
    [
        ("isv.SOMETHING_NEW", 200, True),
        ("isp.SOMETHING_NEW", 200, False),
        ("Throttling.User", 400, False),
        ("ServiceUnavailable", 503, False),
    ],
)
def test_an_unlisted_code_is_judged_by_its_family(
    fake_aliyun: FakeAliyun, code: str, status: int, permanent: bool
) -> None:
    fake_aliyun.fail_next(aliyun_reply(code, "?", status))

    error = failure(fake_aliyun)

    assert error.permanent is permanent
    assert error.provider_code == code


@pytest.mark.parametrize(
    ("reply", "permanent", "unknown"),
    [
        (Reply(502, "Bad Gateway"), False, False),
        (Reply(200, ""), False, True),
        (Reply(403, "<html>Forbidden</html>"), True, False),
    ],
)
def test_a_reply_without_aliyuns_json_is_judged_by_its_status(
    fake_aliyun: FakeAliyun, reply: Reply, permanent: bool, unknown: bool
) -> None:
    fake_aliyun.fail_next(reply)

    error = failure(fake_aliyun)

    assert (error.permanent, error.unknown) == (permanent, unknown)


def test_the_secret_never_appears_in_an_error(fake_aliyun: FakeAliyun) -> None:
    echo = f"bad request {fake_aliyun.access_key_secret}"
    fake_aliyun.fail_next(aliyun_reply("isv.INVALID_PARAMETERS", echo))

    error = failure(fake_aliyun)

    assert fake_aliyun.access_key_secret not in error.message
    assert fake_aliyun.access_key_secret not in error.reply_excerpt


# -- misbehaving servers -------------------------------------------------------


def test_a_read_timeout_is_an_unknown_outcome(fake_aliyun: FakeAliyun) -> None:
    assert checks.timed_out(fake_aliyun, failure).unknown


def test_a_connection_closed_in_the_middle_of_the_reply_is_an_unknown_outcome(
    fake_aliyun: FakeAliyun,
) -> None:
    assert checks.closed_mid_reply(fake_aliyun, failure).unknown


def test_a_slow_reply_within_the_timeout_is_a_success(fake_aliyun: FakeAliyun) -> None:
    result = checks.slow_reply(fake_aliyun, send)

    assert result.provider_message_id == fake_aliyun.sent[0]["BizId"]


# -- configuration and recipients ---------------------------------------------

VALID = {
    "access_key_id": "LTAI5tExampleKey01",
    "sign_name": "运维告警",
    "template_code": "SMS_154950909",
}


def test_the_endpoint_and_region_default_to_aliyuns() -> None:
    assert clean(VALID) == {
        **VALID,
        "endpoint": "https://dysmsapi.aliyuncs.com",
        "region_id": "cn-hangzhou",
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"access_key_id": "has space"}, "access_key_id"),
        ({"sign_name": "   "}, "sign_name"),
        ({"template_code": "SMS 1"}, "template_code"),
        ({"region_id": "Hangzhou"}, "region_id"),
        ({"endpoint": "dysmsapi.aliyuncs.com"}, "endpoint"),
        ({"endpoint": "https://dysmsapi.aliyuncs.com/?Action=SendSms"}, "endpoint"),
    ],
)
def test_refuses_a_bad_setting_under_its_own_key(change: dict, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        clean({**VALID, **change})

    assert f"config.{field}" in caught.value.message_dict


def test_the_access_key_secret_is_required() -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.clean_config(VALID, {})

    assert "secrets.access_key_secret" in caught.value.message_dict


@override_settings(ORION_ALLOW_PRIVATE_DESTINATIONS=False)
@pytest.mark.parametrize(
    ("endpoint", "allowed"),
    [
        ("https://dysmsapi.aliyuncs.com", True),
        ("https://dysmsapi.ap-southeast-1.aliyuncs.com", True),
        ("http://dysmsapi.aliyuncs.com", False),
        ("https://aliyuncs.com.attacker.example", False),
    ],
)
def test_in_production_the_endpoint_must_be_https_on_aliyuncs(
    endpoint: str, allowed: bool
) -> None:
    if allowed:
        assert clean({**VALID, "endpoint": endpoint})["endpoint"] == endpoint
    else:
        with pytest.raises(ValidationError):
            clean({**VALID, "endpoint": endpoint})


def test_an_email_address_is_refused_as_a_recipient_with_a_clear_reason() -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.clean_recipient("oncall@example.com")

    assert "email address" in caught.value.message_dict["recipient"][0]


@pytest.mark.parametrize("recipient", ["", "13800138000", "+86 138", "ops"])
def test_a_recipient_that_is_not_one_e164_number_is_refused(recipient: str) -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.clean_recipient(recipient)

    assert "recipient" in caught.value.message_dict


# -- through the pipeline ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_notification_needs_only_a_context_and_shows_it_as_the_body(
    aliyun_channel: Channel, fake_aliyun: FakeAliyun
) -> None:
    notification = checks.delivered(
        aliyun_channel, recipient=RECIPIENT, context=CONTEXT
    )

    assert json.loads(notification.body) == CONTEXT
    assert notification.status == Status.SENT
    assert notification.provider_message_id == fake_aliyun.sent[0]["BizId"]
    attempt = DeliveryAttempt.objects.get(notification=notification)
    assert (attempt.outcome, attempt.provider_code) == ("sent", "OK")


@pytest.mark.django_db(transaction=True)
def test_other_kinds_still_need_a_body(twilio_channel: Channel) -> None:
    with pytest.raises(ValidationError) as caught:
        create_notification(
            NotificationSpec(
                channel=twilio_channel, recipient=RECIPIENT, context=CONTEXT
            )
        )

    assert "body" in caught.value.message_dict


@pytest.mark.django_db(transaction=True)
def test_a_nested_context_is_refused_before_the_notification_exists(
    aliyun_channel: Channel,
) -> None:
    with pytest.raises(ValidationError) as caught:
        create_notification(
            NotificationSpec(
                channel=aliyun_channel,
                recipient=RECIPIENT,
                context={"host": {"name": "db-1"}},
            )
        )

    assert "context.host" in caught.value.message_dict
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_timeout_fails_the_notification_for_an_operator_to_check_and_sends_once(
    aliyun_channel: Channel, fake_aliyun: FakeAliyun, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks.assert_a_timeout_fails_once_for_an_operator(
        fake_aliyun, monkeypatch, aliyun_channel, recipient=RECIPIENT, context=CONTEXT
    )


@pytest.mark.django_db(transaction=True)
def test_a_permanent_refusal_fails_the_notification_after_one_attempt(
    aliyun_channel: Channel, fake_aliyun: FakeAliyun
) -> None:
    fake_aliyun.fail_next(aliyun_reply("isv.AMOUNT_NOT_ENOUGH", "账户余额不足"))
    notification = checks.delivered(
        aliyun_channel, recipient=RECIPIENT, context=CONTEXT
    )

    assert notification.status == Status.FAILED
    attempt = DeliveryAttempt.objects.get(notification=notification)
    assert (attempt.outcome, attempt.provider_code) == (
        "permanent",
        "isv.AMOUNT_NOT_ENOUGH",
    )
