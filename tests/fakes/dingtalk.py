"""A fake DingTalk custom robot that checks requests as DingTalk does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from tests.fakes.base import FakeProvider, Received, Reply

MESSAGE_TYPES = ("text", "markdown", "link", "actionCard", "feedCard")
# The documented errcodes, with errmsg in DingTalk's current structured form.
CODES = {
    310000: "错误描述:签名不匹配;解决方案:请确认签名和生成签名的时间戳必须都要在 "
    "webhook 的请求参数中;",
    410100: "错误描述:发送速度太快而限流;解决方案:请降低发送速度;",
    130101: "send too fast, exceed 20 times per minute",
    400013: "错误描述:群已被解散;解决方案:请向其他群发消息;",
    400101: "错误描述:access_token不存在;解决方案:请确认access_token拼写是否正确;",
    400102: "错误描述:机器人已停用;解决方案:请联系管理员启用机器人;",
    400105: "错误描述:不支持的消息类型;解决方案:请使用文档中支持的消息类型;",
    400106: "错误描述:机器人不存在;解决方案:请确认机器人是否在群中;",
    430101: "错误描述:含有不安全的外链;解决方案:请确认发送的内容合法;",
    430102: "错误描述:含有不合适的文本;解决方案:请确认发送的内容合法;",
    430103: "错误描述:含有不合适的图片;解决方案:请确认发送的内容合法;",
    430104: "错误描述:含有不合适的内容;解决方案:请确认发送的内容合法;",
    300001: "token is not exist",
    300005: "token is not exist",
    -1: "系统繁忙",
}
# The code for a body missing a required field is not in
# shared/providers.md; the fake uses 40035 ("missing parameter"), and the
# adapter must not depend on it.
BAD_BODY = 40035


def dingtalk_error(code: int, message: str = "") -> Reply:
    return Reply(200, {"errcode": code, "errmsg": message or CODES.get(code, "")})


def expected_sign(timestamp: str, secret: str) -> str:
    message = f"{timestamp}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class FakeDingTalk(FakeProvider):
    """Serves `/robot/send?access_token=<token>`.

    `secret` turns signature checking on (timestamp within an hour of the
    fake's clock, moved by `clock_skew` seconds); `keywords` makes it demand
    one of them in the message, as a robot's keyword security setting does.
    """

    def __init__(
        self,
        token: str = "dingtalk-token-0123456789",
        secret: str = "",
        keywords: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.token = token
        self.secret = secret
        self.keywords = keywords
        self.clock_skew = 0.0

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/robot/send?access_token={self.token}"

    def respond(self, received: Received) -> Reply:
        if received.method != "POST" or received.path != "/robot/send":
            return Reply(404, "404 Not Found")
        if received.query.get("access_token", [""])[0] != self.token:
            return dingtalk_error(300001)
        if self.secret and not self._signature_ok(received):
            return dingtalk_error(310000)
        try:
            body = json.loads(received.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return dingtalk_error(BAD_BODY, "缺少参数 json")
        if not isinstance(body, dict) or body.get("msgtype") not in MESSAGE_TYPES:
            return dingtalk_error(400105)
        problem = _shape_problem(body)
        if problem:
            return dingtalk_error(BAD_BODY, problem)
        if self.keywords and not any(k in _visible_text(body) for k in self.keywords):
            return dingtalk_error(310000, "错误描述:关键词不匹配;")
        scripted = self.scripted()
        if scripted is not None:
            return scripted
        return Reply(200, {"errcode": 0, "errmsg": "ok"})

    def _signature_ok(self, received: Received) -> bool:
        # parse_qs decodes the query once, as DingTalk does: a sign that was
        # percent-encoded twice arrives still encoded and does not match.
        timestamp = received.query.get("timestamp", [""])[0]
        sign = received.query.get("sign", [""])[0]
        try:
            millis = int(timestamp)
        except ValueError:
            return False
        if abs(time.time() + self.clock_skew - millis / 1000) > 3600:
            return False
        return hmac.compare_digest(expected_sign(timestamp, self.secret), sign)


def _shape_problem(body: dict[str, Any]) -> str:
    """Why DingTalk would refuse a text or markdown body, or ""."""
    kind = body["msgtype"]
    fields = body.get(kind)
    if kind == "text":
        if not isinstance(fields, dict) or not isinstance(fields.get("content"), str):
            return "缺少参数 text.content"
    if kind == "markdown":
        if not isinstance(fields, dict) or not all(
            isinstance(fields.get(name), str) and fields[name]
            for name in ("title", "text")
        ):
            return "缺少参数 markdown.title 或 markdown.text"
    at = body.get("at", {})
    if not isinstance(at, dict):
        return "at 格式错误"
    for name in ("atMobiles", "atUserIds"):
        value = at.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"at.{name} 格式错误"
    if not isinstance(at.get("isAtAll", False), bool):
        return "at.isAtAll 格式错误"
    return ""


def _visible_text(body: dict[str, Any]) -> str:
    fields = body.get(body["msgtype"], {})
    return " ".join(str(v) for v in fields.values()) if isinstance(fields, dict) else ""
